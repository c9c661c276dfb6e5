export { readSafetensors, writeSafetensors, parseSafetensors, serializeSafetensors, type Safetensors } from "./safetensors.js";
export {
  GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GGUF_VERSION, GgmlType, GgufValueType, ggmlBytes, ggufToF32, ggufValue, kv, parseGguf, readGguf, serializeGguf, writeGguf,
  type GgmlTypeName, type GgufFile, type GgufKV, type GgufScalar, type GgufScalarType, type GgufTensor,
} from "./gguf.js";
export { openSafetensors, writeSafetensorsFile, type SafetensorsEntry, type SafetensorsFile, type StreamedTensor } from "./safetensors-file.js";
