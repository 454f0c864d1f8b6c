// Hand-written eth-proxy wire transcripts (shapes from ethminer EthStratumClient ETHPROXY mode, Claymore, lolMiner, T-Rex, open-ethereum-pool); data only.
export const ADDR = "0xb85150eb365e7df0941f0cf08235f987ba91506a";
export const ADDR_CHECKSUMMED = "0xB85150EB365e7DF0941F0cF08235F987BA91506a";
export const HEADER = "0xfc12eb20c58158071c956316cdcd12a22dd8bf126ac4aee559f0ffe4df11f279";
export const SEED = "0xabad8f99f3918bf903c6a909d9bbc0fdfa5a2f4b9cb1196175ec825c6610126c";
export const MIX = "0xf6cd1b1ca4c4ea8ef652f929e3d04b24fb4a4a41be30ebcd68226067c76768c3";
export const NONCE = "0xa2eea0cfae7df760";
export const CLIENT_ID = "0x59daa26581d0acd1fce254fb7e85952f4c09d0915afd33d3886cd914bc7d283c";

/** Miner→pool requests as they appear on the wire (one JSON object per line). */
export const MINER_LINES: Record<string, Record<string, unknown>> = {
  // ethminer ≥0.16: worker in the top-level "worker" field, params[1] only when a password is set.
  ethminer_login: { id: 1, jsonrpc: "2.0", method: "eth_submitLogin", params: [ADDR], worker: "rig1" },
  ethminer_login_pass: { id: 1, jsonrpc: "2.0", method: "eth_submitLogin", params: [ADDR, "x"], worker: "rig1" },
  // ethminer 0.12/0.13 (m_email) with no worker configured.
  ethminer_login_email: { id: 1, method: "eth_submitLogin", params: [ADDR, "me@example.com"] },
  ethminer_get_work: { id: 5, jsonrpc: "2.0", method: "eth_getWork", params: [] },
  ethminer_submit_work: { id: 40, jsonrpc: "2.0", method: "eth_submitWork", params: [NONCE, HEADER, MIX], worker: "rig1" },
  ethminer_hashrate: {
    id: 9,
    jsonrpc: "2.0",
    method: "eth_submitHashrate",
    params: ["0x00000000000000000000000000000000000000000000000000000000026f5e48", CLIENT_ID],
    worker: "rig1",
  },
  // Claymore: ids 2 (login) 3 (getWork) 4 (submitWork) 6 (hashrate); "worker" on every request, "" when unset.
  claymore_login: { worker: "eth1.0", jsonrpc: "2.0", params: [ADDR, "x"], id: 2, method: "eth_submitLogin" },
  claymore_get_work: { worker: "", jsonrpc: "2.0", params: [], id: 3, method: "eth_getWork" },
  claymore_submit_work: { id: 4, jsonrpc: "2.0", method: "eth_submitWork", params: [NONCE, HEADER, MIX], worker: "" },
  claymore_hashrate: { id: 6, jsonrpc: "2.0", method: "eth_submitHashrate", params: ["0x491cc40", CLIENT_ID] },
  // lolMiner / T-Rex / Bzminer: "address.worker" in params[0].
  lolminer_login: { id: 1, jsonrpc: "2.0", method: "eth_submitLogin", params: [ADDR + ".rig0", "x"] },
  trex_login_checksummed: { id: 1, jsonrpc: "2.0", method: "eth_submitLogin", params: [ADDR_CHECKSUMMED + ".farm.a"], worker: "" },
  // Top-level worker wins over "address.worker".
  both_workers: { id: 1, jsonrpc: "2.0", method: "eth_submitLogin", params: [ADDR + ".inparams"], worker: "toplevel" },
  // Some proxies strip 0x and send uppercase.
  submit_work_no_prefix: {
    id: 7,
    method: "eth_submitWork",
    params: [NONCE.slice(2).toUpperCase(), HEADER.slice(2).toUpperCase(), MIX.slice(2)],
  },
};

/** Pool→miner lines from open-ethereum-pool (proxy/stratum.go, proxy/handlers.go). */
export const POOL_LINES = {
  login_ok: '{"id":1,"jsonrpc":"2.0","result":true}',
  stale: '{"id":4,"jsonrpc":"2.0","result":false}',
  duplicate: '{"id":4,"jsonrpc":"2.0","result":null,"error":{"code":22,"message":"Duplicate share"}}',
};
