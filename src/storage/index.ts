/** Storage: one interface over local paths, `file://` and remote schemes. */

export { localPath, localStorage, writeFileAtomic } from "./local.js";
export { joinUri, registerStorageBackend, type StorageBackend, schemeOf, storage } from "./storage.js";
