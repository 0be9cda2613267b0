/**
 * main/sae: sparse autoencoders in SAELens's on-disk format (cfg.json +
 * sae_weights.safetensors), their encode/decode on the CPU, and dial → steering math.
 * Plain Node: imports nothing from Electron, onnxruntime or SQLite.
 */
export {
  parseSaeConfig,
  SaeConfigError,
  SAE_ARCHITECTURES,
  type ActivationNorm,
  type SaeArchitecture,
  type SaeConfig,
} from './config';
export {
  loadSae,
  Sae,
  SaeLoadError,
  CFG_FILE,
  READ_AT_ONCE_BYTES,
  SPARSITY_FILE,
  WEIGHTS_FILE,
  type InputNorm,
  type SaeTensors,
  type SparseCodes,
} from './sae';
export {
  SafetensorsError,
  SafetensorsFile,
  SafetensorsOnDisk,
  writeSafetensors,
  type SafetensorsDtype,
  type Tensor,
  type TensorInfo,
  type TensorToWrite,
} from './safetensors';
export { compositeDirection, MAX_MEMBERS, membersProblem, type CompositeMember } from './composite';
export {
  DIAL_METHODS,
  dialDirection,
  isAtRest,
  MAX_ABS_VALUE,
  MAX_RELATIVE_VALUE,
  steer,
  SteeringError,
  validateDials,
  type Dial,
  type DialMethod,
  type SteeringResult,
} from './steering';
export { maskFromPaint, nchwToRows, rowsToNchw } from './layout';
