import { CloudName } from "../../clusters/types";
import { Settings } from "../../config";
import { JsonObject } from "../../lib/json";

/** Values of the es1-base chart: pure data from Settings. */
export function baseValues(settings: Settings, cloud: CloudName): JsonObject {
  return {
    install: {
      project: settings.project,
      stack: settings.stack,
      environment: settings.environment,
      sizing: settings.sizing,
      cloud,
    },
    priorityClasses: { enabled: true },
    limitRange: { enabled: true },
  };
}
