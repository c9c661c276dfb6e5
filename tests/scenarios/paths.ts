// Source-tree paths for tests (tests run from dist/, fixtures stay in the source tree).
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
export const fixtures = fileURLToPath(new URL("../../../tests/fixtures/scenarios/", import.meta.url));
export const quickstart = fileURLToPath(new URL("../../../scenarios/quickstart.yaml", import.meta.url));
/** Every stage 0-6: what the quickstart grows into. */
export const fullCurriculum = fileURLToPath(new URL("../../../tests/fixtures/scenarios/full-curriculum.yaml", import.meta.url));
