export { backward, detach, donateGrad, enableGrad, gradOf, gradSlot, isGradEnabled, needsGrad, noGrad, record, type BackwardOptions } from "./graph.js";
