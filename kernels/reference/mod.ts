export { loadFixture, gptConfigOf, type Fixture, type FixtureConfig, type FixtureAdamW } from "./fixture.js";
export { verifyFixture, verifyTolerances, type VerifyReport } from "./verify.js";
