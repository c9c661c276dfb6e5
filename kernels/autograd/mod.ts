export { backward, detach, donateGrad, enableGrad, gradOf, isGradEnabled, needsGrad, noGrad, record, type BackwardOptions } from "./graph.js";
