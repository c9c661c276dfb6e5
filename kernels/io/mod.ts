export { readSafetensors, writeSafetensors, parseSafetensors, serializeSafetensors, type Safetensors } from "./safetensors.js";
export { openSafetensors, writeSafetensorsFile, type SafetensorsEntry, type SafetensorsFile, type StreamedTensor } from "./safetensors-file.js";
