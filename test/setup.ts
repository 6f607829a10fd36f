import "cdktf/lib/testing/adapters/jest";
import { Testing } from "cdktf";
import { skipTokenStackTraces } from "../synth/tokenStackTraces";

Testing.setupJest();
// As `cdktf synth` runs the app (main.ts): without it, every token's trace went through jest's
// source-map support and was about half of a synthesizing suite's time.
skipTokenStackTraces();
