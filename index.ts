// Entry point of `pulumi up`: the program lives in program.ts so the Automation API and the unit
// tests can run the same function.
import { es1 } from "./program";

export = es1();
