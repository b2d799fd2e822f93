import { describe } from "node:test";
import { wholeProgramTests } from "./support/program-checks";

describe("the whole castle program, stack blue", () => wholeProgramTests("blue"));
