/** Images: references, `ImageConfig`, `{{.image...}}` templates and the Flyte config file. */

export {
  configSection,
  FLYTECTL_CONFIG_ENV,
  type FlyteConfig,
  FlyteConfigError,
  type FlyteConfigErrorOptions,
  type FlyteConfigOptions,
  type FlyteConfigOrigin,
  locateFlyteConfig,
  parseFlyteConfig,
  readFlyteConfig,
} from "./config-file.js";
export {
  checkImageName,
  DEFAULT_IMAGE_NAME,
  type FlyteErrorClass,
  IMAGE_NAME_PATTERN,
  Image,
  type ImageInit,
  type ImageJson,
  isImageReference,
  type ParseImageOptions,
  parseImageReference,
  referenceProblem,
} from "./image.js";
export {
  ImageConfig,
  type ImageConfigJson,
  type ImageSources,
  SDK_IMAGE_REPOSITORY,
  type SdkImageOptions,
  sdkDefaultImage,
  sdkVersion,
} from "./image-config.js";
export {
  BASE_IMAGE_ENV_VAR,
  DEFAULT_BASE_IMAGE,
  declaredImageSpecs,
  ImageSpec,
  type ImageSpecOptions,
  imageSpec,
} from "./image-spec.js";
export {
  DEFAULT_IMAGE_TEMPLATE,
  hasImageTemplate,
  type ImageAttribute,
  type ImageLookup,
  type ImageTemplatePart,
  parseImageTemplates,
  renderImageTemplates,
  validateContainerImage,
} from "./template.js";
