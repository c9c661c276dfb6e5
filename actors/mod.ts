// Public surface of the actors layer. Importing it registers the built-in roles.
import "./roles.js";
export * from "./errors.js";
export * from "./runtime/mod.js";
