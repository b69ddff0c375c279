import http from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, test } from "vitest";
import { childEnvironment } from "../../src/harness/runner/bundled-server.js";
import { parseTarget, probeTarget } from "../../src/harness/runner/target.js";

describe("parseTarget", () => {
  test("accepts loopback http URLs and keeps only the origin", () => {
    expect(parseTarget("http://127.0.0.1:8080/v1")).toEqual({ ok: true, baseUrl: "http://127.0.0.1:8080" });
    expect(parseTarget("http://localhost:9000")).toEqual({ ok: true, baseUrl: "http://localhost:9000" });
    expect(parseTarget("http://[::1]:9000/")).toEqual({ ok: true, baseUrl: "http://[::1]:9000" });
    expect(parseTarget("http://127.8.9.10")).toMatchObject({ ok: true });
  });

  test("refuses other hosts, other schemes and non-URLs with what to do", () => {
    expect(parseTarget("http://10.0.0.5:8080")).toEqual({ ok: false, error: "--target 10.0.0.5 is not a loopback address: load runs only send traffic to this machine (127.0.0.1, ::1 or localhost)" });
    expect(parseTarget("http://example.com")).toMatchObject({ ok: false });
    expect(parseTarget("http://127.0.0.1.example.com")).toMatchObject({ ok: false });
    expect(parseTarget("https://127.0.0.1")).toMatchObject({ ok: false, error: expect.stringMatching(/http:\/\//) });
    expect(parseTarget("127.0.0.1:8080")).toMatchObject({ ok: false });
  });
});

describe("probeTarget", () => {
  test("reads the model id and says memory is unavailable without process_resident_memory_bytes", async () => {
    const srv = http.createServer((req, res) => {
      if (req.url === "/v1/models") res.end(JSON.stringify({ data: [{ id: "m-1" }] }));
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    const probe = await probeTarget(`http://127.0.0.1:${(srv.address() as AddressInfo).port}`);
    srv.close();
    expect(probe).toMatchObject({ modelId: "m-1", memory: null, memoryNote: expect.stringMatching(/no \/metrics/) });
  });

  test("samples memory from /metrics when the target exports it", async () => {
    const srv = http.createServer((req, res) => res.end(req.url === "/metrics" ? "process_resident_memory_bytes 4096\n" : "{}"));
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    const probe = await probeTarget(`http://127.0.0.1:${(srv.address() as AddressInfo).port}`);
    expect(await probe.memory?.()).toBe(4096);
    srv.close();
  });
});

describe("childEnvironment", () => {
  test("drops the parent's debug switches and adds the scenario's", () => {
    expect(childEnvironment({ PATH: "/bin", GAUNTLET_DEBUG_FAULT_RATE: "1", X: undefined }, { GAUNTLET_DEBUG_FAULT_SEED: "4" })).toEqual({ PATH: "/bin", GAUNTLET_DEBUG_FAULT_SEED: "4" });
  });
});

describe("servingPid", () => {
  test("finds the descendant that runs `serve` when the launched process re-ran itself", async () => {
    const { spawn } = await import("node:child_process");
    const { servingPid } = await import("../../src/harness/runner/bundled-server.js");
    // launcher (sh) -> node -e ... serve: the node process is the one serving.
    const launcher = spawn("sh", ["-c", `exec_child() { ${process.execPath} -e "setTimeout(()=>{}, 5000)" serve; }; exec_child & wait`], { stdio: "ignore" });
    try {
      let found = { pid: launcher.pid!, pids: [launcher.pid!] };
      for (let k = 0; k < 50 && found.pid === launcher.pid; k++) {
        await new Promise((r) => setTimeout(r, 50));
        found = await servingPid(launcher.pid!);
      }
      expect(found.pid).not.toBe(launcher.pid);
      expect(found.pids).toContain(found.pid);
      expect(found.pids[0]).toBe(launcher.pid);
    } finally {
      launcher.kill("SIGKILL");
    }
  });
});
