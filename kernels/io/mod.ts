export { readSafetensors, writeSafetensors, parseSafetensors, serializeSafetensors, type Safetensors } from "./safetensors.js";
