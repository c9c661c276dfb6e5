// PyTorch peers: running a peer script, and searching the configuration it runs fastest in.
export { BlasKernels, type PeerConfig, BLAS_KERNEL_VARIABLES, blasKernelPins, configLabel, isOneThread, peerConfigs, peerEnv, threadCounts } from "./configs.js";
export { type PeerResult, type RunScriptOptions, jsonLines, peerScript, python, runPeer, runScript, torchMissing } from "./run.js";
export { type PeerCandidate, type PeerEnvReport, type PeerSearch, type PeerTrial, type SearchOptions, type TorchPeerOptions, candidateJson, candidateOf, runTrial, searchTorchPeer, trialJson } from "./search.js";
