// The test harness: a real nats-server per file or suite, polling, and small sync helpers.
export { type FileNats, type TestNats, natsForFile, nextReconnect, startNats } from "./nats.js";
export { type CheckOptions, type Deferred, Lock, check, deferred, uniqueName } from "./check.js";
export { type RigProcess, type TestRig, rigSkip, startRig } from "./rig.js";
export { inCI, skipUnlessCI, testNeeding } from "./needs.js";
