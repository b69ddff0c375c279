import { describe, expect, test } from "vitest";
import { defaultConfig } from "../../src/config/defaults.js";
import { loadConfig } from "../../src/config/load-config.js";
import { memoryFs } from "../../src/config/memory-fs.js";

describe("defaults", () => {
  test("defaultConfig matches what loadConfig gives with nothing set", () => {
    const loaded = loadConfig({ env: {}, argv: [], fs: memoryFs({}), cwd: "/srv/app" });
    expect(loaded.ok).toBe(true);
    const expected = { ...(loaded.ok ? loaded.config : {}), cacheDir: defaultConfig().cacheDir };
    expect(defaultConfig()).toEqual(expected);
  });

  test("defaultConfig uses the embedded model", () => {
    expect(defaultConfig().modelPath).toBeNull();
    expect(defaultConfig().modelPreset).toBe("tiny");
  });

  test("deep-partial overrides replace only the given fields", () => {
    const config = defaultConfig({ port: 0, cache: { enabled: false }, memory: { rejectPct: 99 } });
    expect(config.port).toBe(0);
    expect(config.cache).toEqual({ enabled: false, maxBytes: 67108864, quarantineMaxBytes: 16777216, diskMaxBytes: 268435456, ioTimeoutMs: 1000 });
    expect(config.memory).toEqual({ clearPct: 90, rejectPct: 99, checkMs: 1000 });
    expect(config.breaker.failureThreshold).toBe(5);
  });

  test("overrides may set nullable fields and gpu modes", () => {
    const config = defaultConfig({ apiKey: "test-key-123", gpu: "vulkan", modelPath: "/models/m.gguf" });
    expect(config.apiKey).toBe("test-key-123");
    expect(config.gpu).toBe("vulkan");
    expect(config.modelPath).toBe("/models/m.gguf");
  });

  test("the result is deeply frozen", () => {
    const config = defaultConfig();
    expect(() => {
      (config.retry as { baseMs: number }).baseMs = 1;
    }).toThrow(TypeError);
    expect(Object.isFrozen(config.breaker)).toBe(true);
  });

  test("each call returns an independent object", () => {
    expect(defaultConfig({ port: 1 }).port).toBe(1);
    expect(defaultConfig().port).toBe(8080);
  });
});
