// Tests the abuse bench's pure helpers: connect pacing and Prometheus sample reading; no sockets.
import { describe, expect, test } from "bun:test";
import { dueConnections, promSample } from "../../../src/loadgen/abuse_load.ts";

describe("dueConnections (cumulative pacing)", () => {
  test("1000/s: 2 due after 2 ms, 1000 after 1 s", () => {
    expect(dueConnections(2, 1000, 0)).toBe(2);
    expect(dueConnections(1000, 1000, 0)).toBe(1000);
  });
  test("subtracts what was started; a late tick catches up", () => {
    expect(dueConnections(10, 1000, 8)).toBe(2);
    expect(dueConnections(50, 1000, 10)).toBe(40);
  });
  test("never negative, nothing before start or at rate 0", () => {
    expect(dueConnections(5, 1000, 9)).toBe(0);
    expect(dueConnections(0, 1000, 0)).toBe(0);
    expect(dueConnections(-3, 1000, 0)).toBe(0);
    expect(dueConnections(100, 0, 0)).toBe(0);
    expect(dueConnections(Number.NaN, 1000, 0)).toBe(0);
  });
  test("fractional rates round down", () => {
    expect(dueConnections(999, 1, 0)).toBe(0);
    expect(dueConnections(1000, 1, 0)).toBe(1);
    expect(dueConnections(1500, 2.5, 0)).toBe(3);
  });
});

describe("promSample", () => {
  const text = [
    "# HELP stratum_edge_connections_refused_total Connections closed at accept, by reason.",
    "# TYPE stratum_edge_connections_refused_total counter",
    'stratum_edge_connections_refused_total{reason="max_per_address"} 3',
    'stratum_edge_connections_refused_total{reason="banned"} 8001',
    "stratum_edge_connections 1",
    "stratum_edge_connections_open_peak 7",
    'stratum_edge_shares_total{result="rejected",reason="duplicate"} 2',
    'stratum_edge_shares_total{reason="",result="accepted"} 15192',
    "weird_metric NaN-ish",
  ].join("\n");
  test("picks the series with exactly these labels", () => {
    expect(promSample(text, "stratum_edge_connections_refused_total", { reason: "banned" })).toBe(8001);
    expect(promSample(text, "stratum_edge_connections_refused_total", { reason: "max_per_address" })).toBe(3);
  });
  test("label order does not matter; empty label values match", () => {
    expect(promSample(text, "stratum_edge_shares_total", { reason: "duplicate", result: "rejected" })).toBe(2);
    expect(promSample(text, "stratum_edge_shares_total", { result: "accepted", reason: "" })).toBe(15192);
  });
  test("an unlabelled series is not confused with a longer name sharing its prefix", () => {
    expect(promSample(text, "stratum_edge_connections")).toBe(1);
    expect(promSample(text, "stratum_edge_connections_open_peak")).toBe(7);
  });
  test("absent series, missing or extra labels, non-numbers: undefined", () => {
    expect(promSample(text, "stratum_edge_connections_refused_total", { reason: "shutting_down" })).toBeUndefined();
    expect(promSample(text, "stratum_edge_connections_refused_total")).toBeUndefined();
    expect(promSample(text, "stratum_edge_shares_total", { result: "rejected" })).toBeUndefined();
    expect(promSample(text, "stratum_edge_bans_active")).toBeUndefined();
    expect(promSample(text, "weird_metric")).toBeUndefined();
  });
});
