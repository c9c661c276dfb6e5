export { backward, detach, enableGrad, gradOf, isGradEnabled, needsGrad, noGrad, record, type BackwardOptions } from "./graph.js";
