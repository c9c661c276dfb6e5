// Public surface of hosts/placement: which host runs each actor of a cast (pure), and the KV
// bucket through which a director tells host agents what to run.
export { type ActorDemand, type Placed, type PlacementHost, type PlacementResult, STRATEGIES, type Strategy, type Unplaced, actorKey, ineligible, placeActors } from "./placement.js";
export {
  type AssignedActor,
  type Assignment,
  type AssignmentChange,
  type Assignments,
  AssignedActorSchema,
  AssignmentSchema,
  PLACEMENTS_BUCKET,
  RESTART_POLICIES,
  assignmentKey,
  openAssignments,
} from "./assignments.js";
