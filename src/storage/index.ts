/** Storage: one interface over local paths, `file://` and remote schemes. */
export { joinUri, registerStorageBackend, schemeOf, storage, type StorageBackend } from "./storage.js";
export { localPath, localStorage, writeFileAtomic } from "./local.js";
