// The one definition of stratum-edge configuration (zod v4): types, defaults, limits and the doc text README is generated from; no file I/O.
import { z } from "zod";
import { DEFAULT_BAN_POLICY, createAllowlist } from "../policy/ban_policy.ts";
import { listenerDifficultyProblems } from "./listener_difficulty.ts";

// Nested objects use .prefault({}) so an absent section is parsed (inner defaults apply); zod v4's
// .default() would return the literal {} unparsed. Objects are strict: an unknown key is a typo.

const port = (what: string) => z.number().int().min(0).max(65535).describe(what);
const hex = (digits: number, what: string) =>
  z
    .string()
    .regex(new RegExp(`^[0-9a-fA-F]{${digits}}$`), `expected ${digits} hex digits`)
    .describe(what);

export const LogSchema = z
  .strictObject({
    format: z.enum(["human", "json"]).default("human").describe("Log line format: `human` (timestamp LEVEL message key=value) or `json` (one object per line)."),
    level: z.enum(["debug", "info", "warn", "error"]).default("info").describe("Lowest level written."),
  })
  .describe("Logging.");

export const HttpSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe("Serve /healthz, /metrics and /api/* over HTTP."),
    host: z.string().default("0.0.0.0").describe("HTTP listen address."),
    port: port("HTTP listen port (0 = any free port).").default(8080),
    adminToken: z.string().regex(/^([A-Za-z0-9._~+/-]+=*)?$/, "expected an RFC 6750 bearer token (letters, digits, . _ ~ + / -, trailing =)").default("").describe("Bearer token for the admin API (GET/POST /api/bans, DELETE /api/bans/:address), RFC 6750 token characters; empty = the admin API is absent (404)."),
  })
  .describe("HTTP API and metrics server.");

export const StratumSchema = z
  .strictObject({
    host: z.string().default("0.0.0.0").describe("Stratum listen address."),
    port: port("Stratum listen port (0 = any free port).").default(3333),
    maxLineBytes: z.number().int().min(256).max(1_048_576).default(16384).describe("Longest accepted JSON-RPC line in bytes; a longer line closes the connection (stops memory abuse)."),
    maxConnections: z.number().int().min(1).default(20000).describe("Connections accepted in total; more are closed at accept. With several threads each takes its share (maxConnections / threads, rounded up)."),
    maxConnectionsPerAddress: z.number().int().min(0).default(0).describe("Connections accepted per source address; 0 = unlimited. Counted per thread when threads > 1."),
    threads: z.number().int().min(1).max(64).default(1).describe("Session threads sharing the Stratum ports (SO_REUSEPORT; the kernel spreads connections over them): sockets, sessions, share checks and job fan-out run on all of them, while the main thread, itself one of them, keeps the upstream, jobs, block submission, bans, stats and HTTP. Use the number of cores for large farms. Bun only; on Deno/Node 1 is used with a warning."),
    loginTimeoutMs: z.number().int().min(0).default(30000).describe("Close a connection that has not authorized/logged in within this many milliseconds; 0 = never."),
    idleTimeoutMs: z.number().int().min(0).default(600000).describe("Close a connection that sent nothing for this many milliseconds; 0 = never."),
    extranonce1Size: z.number().int().min(2).max(8).default(4).describe("Bytes of extranonce1 the relay assigns per connection (2..8)."),
    extranonce2Size: z.number().int().min(2).max(16).default(4).describe("Bytes of extranonce2 the miner rolls (2..16; cgminer refuses other sizes)."),
    versionMask: hex(8, "Version-rolling mask offered in mining.configure, 8 hex digits (BIP320 reserves 1fffe000).").default("1fffe000"),
    maxMessagesPerSecond: z.number().positive().default(50).describe("Messages per second one connection may send (token bucket); past it the connection is closed and the ban policy counts a flood. Miners send a few per minute."),
    messageBurst: z.number().int().min(1).default(200).describe("Token-bucket burst: messages a connection may send at once (a pipelined opening is 4-6)."),
    proxyProtocol: z.boolean().default(false).describe("Expect a PROXY protocol v1/v2 header (HAProxy, AWS NLB…) on every connection and use its source address for bans and limits. Without it such a header is malformed input."),
    maxMalformedRequests: z.number().int().min(1).default(10).describe("Malformed requests (bad JSON, wrong params) answered with an error before the connection is closed."),
    maxWriteBufferBytes: z.number().int().min(1024).default(1048576).describe("Bytes queued for one slow miner before it is disconnected."),
  })
  .describe("Stratum listener and per-connection limits.");

export const DifficultySchema = z
  .strictObject({
    initial: z.number().positive().default(0.01).describe("Share difficulty given to a new connection."),
    min: z.number().positive().default(0.0001).describe("Lowest share difficulty vardiff may set."),
    max: z.number().positive().default(1e15).describe("Highest share difficulty vardiff may set."),
    suggestFloor: z.number().positive().default(0.0001).describe("Lowest difficulty a miner may request with mining.suggest_difficulty."),
    targetShareSeconds: z.number().positive().default(10).describe("Vardiff aims for one share per this many seconds per connection."),
    retargetSeconds: z.number().positive().default(60).describe("Seconds between vardiff adjustments."),
    variancePercent: z.number().min(0).max(100).default(30).describe("Vardiff leaves difficulty alone while the share interval is within this percentage of the target."),
  })
  .superRefine((d, ctx) => {
    if (!(d.min <= d.initial && d.initial <= d.max)) {
      ctx.addIssue({ code: "custom", path: ["initial"], input: d.initial, message: `expected min (${d.min}) <= initial <= max (${d.max})` });
    }
  })
  .describe("Share difficulty and vardiff.");

export const CoinbaseSchema = z
  .strictObject({
    payoutScript: z
      .string()
      .regex(/^(?:[0-9a-fA-F]{2})*$/, "expected hex bytes")
      .default("")
      .describe("scriptPubKey (hex) the block reward pays to; empty = `51` (OP_TRUE, anyone-can-spend), acceptable only on devnet."),
    poolTag: z
      .string()
      .default("/stratum-edge/")
      .refine((s) => new TextEncoder().encode(s).byteLength <= 40, { message: "expected at most 40 bytes (coinbase scriptSig is limited to 100 bytes in all)" })
      .describe("Text written into the coinbase scriptSig (at most 40 UTF-8 bytes)."),
  })
  .describe("Coinbase transaction built for devnet and getblocktemplate work.");

export const JobsSchema = z
  .strictObject({
    refreshSeconds: z.number().positive().default(30).describe("Re-issue the current template with a new ntime after this many seconds."),
    keepJobs: z.number().int().min(1).default(8).describe("Recent jobs kept valid for submits (older ones answer 'job not found')."),
  })
  .describe("Job issuing.");

export const DevnetSchema = z
  .strictObject({
    bits: hex(8, "Network target in compact form (nBits), 8 hex digits. The default 1e00ffff (difficulty 1/256, ~16.7M hashes a block) gives a CPU miner a block every few seconds.").default("1e00ffff"),
    blockIntervalSeconds: z.number().positive().default(60).describe("A simulated new block (new prevhash) every this many seconds."),
    transactionsPerBlock: z.number().int().min(0).default(3).describe("Synthetic transactions per template (exercises the merkle branch)."),
    startHeight: z.number().int().min(1).default(1).describe("Height of the first block (BIP34 puts it in the coinbase)."),
    coinbaseValueSats: z.number().int().min(0).max(21e14).default(5000000000).describe("Block reward in satoshis."),
  })
  .describe("Embedded simulated chain.");

export const DevnetUpstreamSchema = z
  .strictObject({
    type: z.literal("devnet").default("devnet").describe("Upstream kind: `devnet` (embedded simulated chain)."),
    devnet: DevnetSchema.prefault({}),
  })
  .describe("Work from the embedded devnet.");

/** TLS settings of one upstream (pool or node); only used when its URL asks for TLS (stratum+ssl://, https://). */
export const UpstreamTlsSchema = z
  .strictObject({
    ca: z.string().default("").describe("PEM file of CA certificates trusted for this upstream in addition to the runtime's default root CAs (a private CA, or the pool's self-signed certificate itself). A file that cannot be read or holds no certificate stops start-up with an error naming this key."),
    pin: z
      .string()
      .default("")
      .refine((v) => v === "" || /^sha256\/\/?[A-Za-z0-9+/]{43}=$/.test(v.trim()), "expected sha256/BASE64 (44 base64 characters)")
      .describe("`sha256/BASE64`: SHA-256 of the server certificate's public key (SubjectPublicKeyInfo, as curl's --pinnedpubkey; survives renewals that keep the key). A different key refuses the connection. With a pin and no `ca` the pin is the whole check (a self-signed pool certificate works, name not checked); with `ca` too, chain, name and pin must all hold."),
    serverName: z.string().default("").describe("Name sent as SNI and checked against the certificate; empty = the URL's host."),
    insecure: z.boolean().default(false).describe("Accept any certificate: no chain, name or pin check (explicit opt-out, logged as a warning at start; anyone on the path can then read and rewrite the traffic)."),
  })
  .describe("TLS checks for this upstream (stratum+ssl:// or https:// URLs); by default the runtime's root CAs and the host name.");

export const BitcoindUpstreamSchema = z
  .strictObject({
    type: z.literal("bitcoind").describe("Upstream kind: `bitcoind` (getblocktemplate/submitblock of Bitcoin Core and its forks)."),
    bitcoind: z
      .strictObject({
        chain: z
          .enum(["bitcoin", "bitcoin-testnet", "bitcoin-regtest", "bitcoin-signet", "litecoin", "litecoin-testnet", "litecoin-regtest", "dogecoin", "dogecoin-testnet"])
          .describe("Chain, for the payout address prefixes (checked at start-up)."),
        algorithm: z.enum(["sha256d", "scrypt"]).default("sha256d").describe("Proof of work: `sha256d` (Bitcoin) or `scrypt` (Litecoin, Dogecoin; share difficulty 1 = target 0xffff·2^224 as scrypt miners read it)."),
        payoutAddress: z.string().min(1).describe("Address the coinbase pays (bech32/bech32m/base58); a wrong address or one of another chain stops start-up with a message naming it."),
        payout: z.enum(["pool", "miner"]).default("pool").describe("`pool`: every block pays payoutAddress. `miner` (solo mode, as Bitaxe users run it): a worker named by a valid address of the chain (`ADDRESS` or `ADDRESS.rig`) mines jobs whose coinbase pays that address; other workers mine for payoutAddress."),
        nodes: z
          .array(
            z.strictObject({
              url: z.string().url().describe("JSON-RPC URL, e.g. http://127.0.0.1:8332 (https:// verified per `tls`)."),
              user: z.string().default("").describe("RPC user (rpcuser); empty with cookieFile."),
              password: z.string().default("").describe("RPC password (rpcpassword)."),
              cookieFile: z.string().default("").describe("Path of the node's .cookie file (used when user is empty; re-read when the node restarts)."),
              priority: z.number().int().default(0).describe("Lower is preferred; blocks go to every healthy node."),
              tls: UpstreamTlsSchema.prefault({}),
            }),
          )
          .min(1)
          .describe("Nodes, with failover by priority."),
        rules: z.array(z.string()).default([]).describe('getblocktemplate rules; empty = per chain: ["mweb","segwit"] for Litecoin (Litecoin Core refuses templates without "mweb"), ["segwit"] otherwise.'),
        longpoll: z.boolean().default(true).describe("Use getblocktemplate long polling (a new tip reaches miners at once)."),
        pollIntervalMs: z.number().int().min(50).default(1000).describe("Fallback tip polling interval."),
        mempoolRefreshSeconds: z.number().positive().default(30).describe("New template (more transactions, fees) at least this often."),
        maxJobAgeSeconds: z.number().positive().default(120).describe("During a node outage, stop issuing jobs older than this."),
      })
      .describe("Node settings."),
  })
  .describe("Work from a Bitcoin Core-family node.");

const poolUrl = z
  .string()
  .regex(/^(?:(?:stratum1?\+(?:tcp|ssl|tls)|tcp|ssl|tls):\/\/)?(\[[0-9a-fA-F:.]+\]|[^:/\s]+):(\d{1,5})\/?$/, "expected stratum+tcp://host:port or stratum+ssl://host:port")
  .describe("Pool address: stratum+tcp://host:port, or stratum+ssl://host:port (also stratum+tls://, stratum1+ssl://) for TLS, verified per `tls`.");


/** Settings of every connection to an upstream pool (Bitcoin and Ethereum relay modes alike). */
const upstreamLinkFields = {
  submitTimeoutMs: z.number().int().min(100).default(5000).describe("How long a forwarded share waits for the upstream's verdict; after it the miner gets error 20 \"Upstream pool did not answer in time\" and the share counts as unconfirmed (never accepted)."),
  handshakeTimeoutMs: z.number().int().min(100).default(10000).describe("Connect and login (subscribe + authorize, or eth_submitLogin) must complete within this time, or the next pool is tried."),
  stallSeconds: z.number().positive().default(120).describe("An upstream that sends nothing (no job, no answer) for this long is treated as dead and the next pool is used."),
  maxTimeoutsInRow: z.number().int().min(1).default(3).describe("This many forwarded shares in a row without a verdict mark the upstream as stalled."),
  failbackSeconds: z.number().positive().default(30).describe("While on a backup pool, how often a preferred pool is tried again."),
  retryMinMs: z.number().int().min(0).default(1000).describe("Backoff before retrying a pool that failed (doubles per failure)."),
  retryMaxMs: z.number().int().min(0).default(30000).describe("Longest backoff between retries of one pool."),
  maxLineBytes: z.number().int().min(1024).max(4_194_304).default(65536).describe("Longest line accepted from an upstream pool (a notify with a long merkle branch is ~3 KB)."),
};

export const PoolUpstreamSchema = z
  .strictObject({
    type: z.literal("pool").describe("Upstream kind: `pool` (relay mode: work from upstream Stratum v1 pools, miners aggregated onto a few connections)."),
    pool: z
      .strictObject({
        pools: z
          .array(
            z.strictObject({
              url: poolUrl,
              user: z.string().min(1).describe("Worker name the relay authorizes with upstream (e.g. account.farm); every forwarded share is submitted under it."),
              password: z.string().default("x").describe("Password sent with mining.authorize."),
              priority: z.number().int().default(0).describe("Lower is preferred; equal priorities keep the listed order. The relay returns to a preferred pool once it answers again."),
              tls: UpstreamTlsSchema.prefault({}),
            }),
          )
          .min(1)
          .describe("Upstream pools, with failover by priority."),
        algorithm: z.enum(["sha256d", "scrypt"]).default("sha256d").describe("Proof of work of the pools' chain: `sha256d` (Bitcoin) or `scrypt` (Litecoin, Dogecoin); every share is checked locally with it."),
        aggregation: z.number().int().min(1).max(65536).default(1000).describe("Miners per upstream connection: each connection's extranonce2 space is carved into this many per-miner prefixes (1 byte up to 256, 2 bytes up to 65536); more miners open more connections."),
        maxUpstreamConnections: z.number().int().min(1).max(1024).default(64).describe("Upstream connections the relay may open in total (aggregation × this = most miners); past it new miners are refused with an error."),
        ...upstreamLinkFields,
        suggestDifficulty: z.number().min(0).default(0).describe("mining.suggest_difficulty sent upstream after authorize; 0 = none (the pool's vardiff decides)."),
      })
      .describe("Relay mode settings."),
  })
  .describe("Work from upstream pools (relay mode).");
// A discriminated union on `type`: each upstream kind is one member (devnet, node, pool).
export const UpstreamSchema = z.discriminatedUnion("type", [DevnetUpstreamSchema, BitcoindUpstreamSchema, PoolUpstreamSchema]).describe("Where work comes from.");

export const EthDevnetSchema = z
  .strictObject({
    blockDifficulty: z.number().int().min(1).default(100000).describe("Block difficulty in hashes (geth's unit; boundary = 2^256 / difficulty). 100000 lets a ~1 kH/s CPU miner find a block now and then."),
    blockIntervalSeconds: z.number().min(0).default(15).describe("A simulated new block (new header hash) every this many seconds; 0 = only when a miner finds one."),
    startBlock: z.number().int().min(1).default(1).describe("Block number of the first work package (epoch 0 below 30000)."),
  })
  .describe("Embedded simulated ethash/etchash chain.");

export const EthDevnetUpstreamSchema = z
  .strictObject({
    type: z.literal("devnet").default("devnet").describe("Upstream kind: `devnet` (embedded simulated chain)."),
    devnet: EthDevnetSchema.prefault({}),
  })
  .describe("Ethereum-style work from the embedded devnet.");

export const EthNodeUpstreamSchema = z
  .strictObject({
    type: z.literal("ethnode").describe("Upstream kind: `ethnode` (eth_getWork polling of geth / core-geth)."),
    ethnode: z
      .strictObject({
        nodes: z
          .array(z.strictObject({ url: z.string().url().describe("JSON-RPC URL, e.g. http://127.0.0.1:8545 (https:// verified per `tls`)."), priority: z.number().int().default(0).describe("Lower is preferred."), tls: UpstreamTlsSchema.prefault({}) }))
          .min(1)
          .describe("Nodes, tried by priority; blocks go to every healthy one."),
        pollIntervalMs: z.number().int().min(10).default(250).describe("eth_getWork polling interval."),
        maxWorkAgeSeconds: z.number().positive().default(60).describe("During an outage, stop issuing work older than this (geth refuses work 7 blocks old)."),
        hashrateIntervalSeconds: z.number().positive().default(30).describe("How often the summed miner hashrate is sent with eth_submitHashrate."),
        hashrateId: z.string().default("").describe("Stable id for eth_submitHashrate (0x + 64 hex, or any text hashed to one); empty = random per process."),
        requestTimeoutMs: z.number().int().min(100).default(2000).describe("Timeout of one JSON-RPC call."),
        submitDeadlineMs: z.number().int().min(100).default(10000).describe("How long a found block is retried when no node answers."),
      })
      .describe("Ethereum node settings."),
  })
  .describe("Ethereum-style work from a node.");

export const EthPoolUpstreamSchema = z
  .strictObject({
    type: z.literal("pool").describe("Upstream kind: `pool` (relay mode: work from upstream eth-proxy pools; every share checked here, those reaching the pool's boundary forwarded with the miner's answer waiting for its verdict)."),
    pool: z
      .strictObject({
        pools: z
          .array(
            z.strictObject({
              url: poolUrl,
              user: z.string().min(1).describe("eth_submitLogin params[0]: the wallet (0x…, optionally 0x….rig) or pool account the relay mines for."),
              password: z.string().default("x").describe("eth_submitLogin params[1]."),
              worker: z.string().default("").describe("eth-proxy: the top-level `worker` field of eth_submitLogin / eth_submitWork (ethminer's --worker); EthereumStratum: appended to `user` as user.worker. Empty = none."),
              protocol: z.enum(["eth-proxy", "ethereum-stratum"]).default("eth-proxy").describe("How the relay talks to this pool: `eth-proxy` (eth_submitLogin / eth_getWork / eth_submitWork; ethminer's stratum1+tcp) or `ethereum-stratum` (EthereumStratum/1.0.0, NiceHash: the pool's extranonce becomes the prefix of every miner's nonce; EthereumStratum miners get it plus their own byte(s), eth-proxy and getwork miners, who pick whole nonces, have a share forwarded only when its nonce happens to start with it)."),
              priority: z.number().int().default(0).describe("Lower is preferred; equal priorities keep the listed order."),
              tls: UpstreamTlsSchema.prefault({}),
            }),
          )
          .min(1)
          .describe("Upstream eth-proxy pools (ethminer's stratum1+tcp / EthProxy dialect), with failover by priority."),
        ...upstreamLinkFields,
        pollIntervalMs: z.number().int().min(0).default(2000).describe("eth_getWork is sent when the pool pushed no work for this long (some eth-proxy pools only answer polls); 0 = never."),
      })
      .describe("Ethereum relay mode settings."),
  })
  .describe("Ethereum-style work from upstream pools (relay mode).");
export const EthashSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe("Serve Ethereum-style miners (eth-proxy, EthereumStratum/1.0.0, EIP-1571 EthereumStratum/2.0.0, HTTP getwork) on the Stratum port and HTTP port."),
    algo: z.enum(["ethash", "etchash"]).default("ethash").describe("Proof of work: `ethash` (EthereumPoW and other ethash chains) or `etchash` (Ethereum Classic, ECIP-1099)."),
    etchashActivationBlock: z.number().int().min(0).default(11_700_000).describe("Etchash: block from which epochs are 60,000 blocks long (11700000 on ETC mainnet, 2520000 on Mordor)."),
    initialDifficulty: z.number().positive().default(0.0000007).describe("Share difficulty for a new Ethereum-style connection, in the pool unit (1 = target 0x00000000ffff0000…, ≈ 4.295e9 hashes; NiceHash's unit). 0.0000007 ≈ 3000 hashes: a share every few seconds from a ~1 kH/s CPU miner."),
    minDifficulty: z.number().positive().default(1e-9).describe("Lowest share difficulty vardiff may set for Ethereum-style miners."),
    maxDifficulty: z.number().positive().default(1e6).describe("Highest share difficulty vardiff may set for Ethereum-style miners."),
    suggestFloor: z.number().positive().default(1e-9).describe("Lowest difficulty a `d=NUMBER` password may set."),
    keepHeights: z.number().int().min(1).max(64).default(8).describe("Work for this many recent block heights stays valid (geth refuses work more than 7 blocks old)."),
    extranonceBytes: z.number().int().min(1).max(3).default(2).describe("EthereumStratum/1.0.0 and EIP-1571 extranonce bytes per connection (the miner rolls the other 8 − n nonce bytes). With a Redis instance prefix (`store.redis.instancePrefix` or leased) the prefix comes first, then these bytes, 3 bytes at most in all."),
    verifierThreads: z.number().int().min(0).max(64).default(0).describe("Worker threads verifying ethash shares; 0 = one per CPU."),
    prebuild: z.boolean().default(false).describe("Build the current epoch's light cache (and start the verifier threads) at start-up. Off: they are built when the first Ethereum-style miner asks for work, which then waits logged in until it is ready (seconds); an edge serving only Bitcoin-family miners never spends the memory."),
    saveCaches: z.boolean().default(true).describe("Keep built light caches in dataDir/caches so a restart does not rebuild them."),
    disconnectOnError: z.boolean().default(false).describe("eth-proxy: close the connection after every error answer (open-ethereum-pool's documented behaviour); off because miners take it for a dead pool."),
    upstream: z.discriminatedUnion("type", [EthDevnetUpstreamSchema, EthNodeUpstreamSchema, EthPoolUpstreamSchema]).prefault({ type: "devnet" }).describe("Where Ethereum-style work comes from."),
  })
  .refine((e) => e.minDifficulty <= e.initialDifficulty && e.initialDifficulty <= e.maxDifficulty, { message: "expected minDifficulty <= initialDifficulty <= maxDifficulty" })
  .describe("Ethereum-style miners (ethash/etchash).");

export const GetworkSchema = z
  .strictObject({
    stratumPort: z.boolean().default(true).describe("Answer HTTP getwork on `stratum.port` too (ethminer's `-P http://HOST:3333`): a connection whose first bytes are an HTTP request line (GET, POST, HEAD, OPTIONS, PUT, DELETE, PATCH) is served by the HTTP port's getwork handler, every other one by the line dialects. Extra `[[listeners]]` choose with `http-getwork` in their `dialects`. Needs ethash.enabled."),
    maxBodyBytes: z.number().int().min(256).max(1_048_576).default(16384).describe("Largest getwork request body, on the HTTP port and on Stratum ports; a larger one is answered 413."),
    maxHeaderBytes: z.number().int().min(256).max(65536).default(8192).describe("Stratum ports: largest HTTP request line plus headers; larger is answered 431 and the connection closed."),
    maxRequestsPerConnection: z.number().int().min(1).default(1000).describe("Stratum ports: HTTP requests served on one keep-alive connection; the last answer says `Connection: close`."),
    keepAliveMs: z.number().int().min(100).default(30000).describe("Stratum ports: an HTTP connection is closed when no complete request arrives within this many milliseconds of opening or of the previous answer (also bounds a slowly sent request)."),
    maxSessions: z.number().int().min(1).default(10000).describe("Getwork sessions (one per URL login/worker, both ports) kept; past it the one idle longest is forgotten."),
  })
  .describe("HTTP getwork (eth-proxy JSON-RPC over HTTP POST) for Ethereum-style miners.");

// A port's own difficulty: the keys of [difficulty] and the difficulty keys of [ethash], each
// optional (absent = the global value); min <= initial <= max is checked after merging (ConfigSchema).
const ownDifficulty = (what: string) => z.number().positive().optional().describe(what);
export const ListenerDifficultySchema = z
  .strictObject({
    initial: ownDifficulty("Share difficulty given to a new connection on this port. Default: `difficulty.initial`."),
    min: ownDifficulty("Lowest share difficulty vardiff may set on this port. Default: `difficulty.min`."),
    max: ownDifficulty("Highest share difficulty vardiff may set on this port. Default: `difficulty.max`."),
    suggestFloor: ownDifficulty("Lowest difficulty a miner on this port may request (mining.suggest_difficulty, BIP310 minimum-difficulty, d=NUMBER password). Default: `difficulty.suggestFloor`, raised to this port's `min` when that is set."),
    targetShareSeconds: ownDifficulty("Vardiff aims for one share per this many seconds per connection on this port (Ethereum-style miners too). Default: `difficulty.targetShareSeconds`."),
    retargetSeconds: ownDifficulty("Seconds between vardiff adjustments on this port (Ethereum-style miners too). Default: `difficulty.retargetSeconds`."),
    variancePercent: z.number().min(0).max(100).optional().describe("Vardiff tolerance on this port (Ethereum-style miners too). Default: `difficulty.variancePercent`."),
  })
  .describe("This port's share difficulty and vardiff for Bitcoin-family miners (`[listeners.difficulty]`, the keys of `[difficulty]`).");

export const ListenerEthashSchema = z
  .strictObject({
    initialDifficulty: ownDifficulty("Share difficulty for a new Ethereum-style connection on this port. Default: `ethash.initialDifficulty`."),
    minDifficulty: ownDifficulty("Lowest share difficulty vardiff may set for Ethereum-style miners on this port. Default: `ethash.minDifficulty`."),
    maxDifficulty: ownDifficulty("Highest share difficulty vardiff may set for Ethereum-style miners on this port. Default: `ethash.maxDifficulty`."),
    suggestFloor: ownDifficulty("Lowest difficulty a `d=NUMBER` password may set on this port. Default: `ethash.suggestFloor`, raised to this port's `minDifficulty` when that is set."),
  })
  .describe("This port's share difficulty for Ethereum-style miners (`[listeners.ethash]`, the difficulty keys of `[ethash]`; HTTP getwork keeps the global ones).");

export const ListenerSchema = z
  .strictObject({
    host: z.string().default("0.0.0.0").describe("Listen address."),
    port: port("Listen port (0 = any free port)."),
    dialects: z
      .array(z.enum(["stratum-v1", "eth-proxy", "eth-stratum", "eth-stratum2", "http-getwork"]))
      .min(1)
      .default(["stratum-v1", "eth-proxy", "eth-stratum", "eth-stratum2", "http-getwork"])
      .describe("Dialects this port accepts (`eth-stratum2` = EIP-1571 EthereumStratum/2.0.0; the first message must be one of them; others get an error and a close). `http-getwork`: connections opening with an HTTP request line get HTTP getwork (see `getwork`); a list without it treats such bytes as a malformed Stratum line."),
    proxyProtocol: z.boolean().default(false).describe("Expect a PROXY protocol v1/v2 header on this port (see stratum.proxyProtocol). Not with `tls`."),
    difficulty: ListenerDifficultySchema.optional(),
    ethash: ListenerEthashSchema.optional(),
    tls: z
      .strictObject({
        cert: z.string().min(1).describe("PEM certificate file (the leaf first, then any intermediates)."),
        key: z.string().min(1).describe("PEM private key file matching `cert` (unencrypted)."),
      })
      .optional()
      .describe("Serve this port over TLS (miners' `stratum+ssl://`; HTTP getwork on it becomes HTTPS). Both files are read and checked at start-up and again on SIGHUP, which swaps the certificate for new connections without dropping open ones (a bad file on reload keeps the old one and logs an error)."),
  })
  .superRefine((l, ctx) => {
    // The PROXY header precedes the TLS handshake on the wire, but Bun.listen starts TLS at accept.
    if (l.tls !== undefined && l.proxyProtocol) ctx.addIssue({ code: "custom", path: ["proxyProtocol"], input: true, message: "proxyProtocol cannot be combined with tls on one listener (terminate TLS at the load balancer, or drop proxyProtocol)" });
  })
  .describe("An extra Stratum port, optionally pinned to some dialects, optionally over TLS.");

const B = DEFAULT_BAN_POLICY;
export const BansSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe("Temporary bans by source address (IPv6 grouped by /64). Banned addresses are closed at accept."),
    windowMs: z.number().int().positive().default(B.windowMs).describe("Sliding window in which offences are counted."),
    minShares: z.number().int().min(1).default(B.minShares).describe("Shares in the window before the invalid-share ratio is judged."),
    invalidRatio: z.number().gt(0).max(1).default(B.invalidRatio).describe("Ban when this fraction of a source's shares in the window is invalid (low difficulty, bad solution, duplicate, out-of-range fields; stale shares do not count)."),
    maxMalformed: z.number().int().min(1).default(B.maxMalformed).describe("Malformed requests (bad JSON, wrong params) in the window that earn a ban."),
    maxOversize: z.number().int().min(1).default(B.maxOversize).describe("Lines over stratum.maxLineBytes in the window that earn a ban."),
    maxFloods: z.number().int().min(1).default(B.maxFloods).describe("Message-rate violations (stratum.maxMessagesPerSecond) in the window that earn a ban."),
    maxFailedLogins: z.number().int().min(1).default(B.maxFailedLogins).describe("Failed logins/authorizations in the window that earn a ban."),
    banMs: z.number().int().positive().default(B.banMs).describe("First ban length; it doubles for a repeat offender up to maxBanMs."),
    maxBanMs: z.number().int().positive().default(B.maxBanMs).describe("Longest ban."),
    failedLoginBanMs: z.number().int().positive().default(B.failedLoginBanMs).describe("First failed-login ban (its own doubling), usually a config typo: short."),
    maxFailedLoginBanMs: z.number().int().positive().default(B.maxFailedLoginBanMs).describe("Longest failed-login ban."),
    offenceMemoryMs: z.number().int().positive().default(B.offenceMemoryMs).describe("How long after a ban ends a repeat offence still escalates."),
    maxTrackedKeys: z.number().int().min(1).default(B.maxTrackedKeys).describe("Addresses with live counters kept at most (bounded memory under scans)."),
    maxBans: z.number().int().min(1).default(B.maxBans).describe("Active bans kept at most (the oldest automatic ban is dropped beyond)."),
    allowlist: z
      .array(z.string())
      .default([])
      .superRefine((list, ctx) => {
        const r = createAllowlist(list);
        if (!r.ok) for (const e of r.errors) ctx.addIssue({ code: "custom", message: e.message, input: e.input });
      })
      .describe("CIDRs (or addresses) never banned nor counted, e.g. [\"10.0.0.0/8\", \"2001:db8::/32\"]."),
  })
  .describe("Temporary bans.");

export const ShutdownSchema = z
  .strictObject({
    drainMs: z.number().int().min(0).default(1000).describe("On SIGINT/SIGTERM, milliseconds to let queued writes flush before exiting."),
    reconnectHost: z.string().default("").describe("If set, miners get client.reconnect to this host before shutdown."),
    reconnectPort: port("Port sent with client.reconnect (0 = the stratum port).").default(0),
  })
  .describe("Graceful shutdown.");

export const RedisSchema = z
  .strictObject({
    url: z.string().regex(/^$|^rediss?:\/\//, "expected redis://[user:password@]host[:port][/db] (or rediss:// for TLS)").default("").describe("Redis shared by several relays (bans, share and block streams, cluster stats, extranonce1 prefixes); empty = this relay stands alone."),
    keyPrefix: z.string().min(1).default("stratum-edge").describe("Namespace of every key and channel this relay uses in Redis (relays that share it form one cluster)."),
    instancePrefix: z.string().regex(/^([0-9a-f]{2})*$/, "expected lowercase hex, whole bytes").default("").describe("This instance's extranonce1 prefix (hex, e.g. `0a`); empty = leased from Redis at start (INCR + a renewed lease key), so the relay refuses to start while Redis is unreachable."),
    prefixBytes: z.number().int().min(1).max(2).default(1).describe("Bytes of a leased extranonce1 prefix (1 = up to 256 instances); they come out of stratum.extranonce1Size."),
    leaseSeconds: z.number().int().min(5).default(60).describe("Life of the prefix lease key; renewed every third of it while Redis is up."),
    sharesStream: z.string().min(1).default("shares").describe("Stream (key `<keyPrefix>:<sharesStream>`) every share is added to."),
    blocksStream: z.string().min(1).default("blocks").describe("Stream (key `<keyPrefix>:<blocksStream>`) every found block candidate is added to."),
    streamMaxLen: z.number().int().min(1).default(1_000_000).describe("XADD MAXLEN ~ of each stream (Redis trims to about this many entries; consumers must read faster)."),
    bufferMaxEntries: z.number().int().min(1).default(200_000).describe("Stream entries held in memory while Redis is slow or down; past this new entries are dropped and counted (stratum_edge_redis_dropped_total)."),
    batchSize: z.number().int().min(1).max(10_000).default(2000).describe("Stream entries written per round trip (one Lua call)."),
    banPollMs: z.number().int().min(100).default(2000).describe("How often the shared ban list is re-read (pub/sub carries bans at once; this repairs missed messages)."),
    statsIntervalMs: z.number().int().min(100).default(2000).describe("How often this instance writes its figures for /api/stats?scope=cluster (kept 3 intervals)."),
    connectTimeoutMs: z.number().int().min(100).default(5000).describe("How long start waits for Redis (a prefix lease needs it)."),
  })
  .describe("Redis for several instances.");

export const StoreSchema = z
  .strictObject({
    shareLog: z.boolean().default(true).describe("Append every judged share (time, worker, source address, pool, job, difficulties, verdict and reason, upstream verdict, block flag) to the SQLite share log `dataDir/shares.sqlite` (WAL; bun:sqlite on Bun, node:sqlite on Deno). A miner is told a share was accepted only once its batch is committed. Also serves per-worker history (`/api/workers`)."),
    commitIntervalMs: z.number().int().min(0).max(1000).default(0).describe("Share log group commit; replies to shares wait for their commit (the latency the log adds). 0 = adaptive: a batch is committed as soon as the writer is free (shares arriving while it commits form the next batch), so a lone share waits ~0.1 ms and a flood is still batched. N > 0: a batch is committed N ms after its first share."),
    retentionDays: z.number().min(0).default(30).describe("Shares and worker history older than this are deleted (checked every 10 minutes); 0 = keep forever."),
    fsync: z.boolean().default(false).describe("fsync every share log commit (SQLite synchronous=FULL): survives power loss, not just a crash of the process, at the cost of a disk flush per batch."),
    redis: RedisSchema.prefault({}),
  })
  .describe("Where shares, blocks and bans go: the share log in dataDir, and Redis beyond this process.");

export const ConfigSchema = z
  .strictObject({
    log: LogSchema.prefault({}),
    dataDir: z.string().min(1).default("./stratum-edge-data").describe("Directory for found blocks, journals and bans."),
    http: HttpSchema.prefault({}),
    stratum: StratumSchema.prefault({}),
    difficulty: DifficultySchema.prefault({}),
    coinbase: CoinbaseSchema.prefault({}),
    jobs: JobsSchema.prefault({}),
    upstream: UpstreamSchema.prefault({ type: "devnet" }),
    ethash: EthashSchema.prefault({}),
    bans: BansSchema.prefault({}),
    getwork: GetworkSchema.prefault({}),
    listeners: z.array(ListenerSchema).default([]).describe("Extra Stratum ports (TOML `[[listeners]]`), each with its own host, port, `proxyProtocol`, dialect list (`dialects`; default all), optional `tls = { cert, key }` (see README, TLS listeners) and optionally its own share difficulty (`[listeners.difficulty]`, `[listeners.ethash]`: a key left out is the global one); limits are those of `stratum` and `getwork`."),
    shutdown: ShutdownSchema.prefault({}),
    store: StoreSchema.prefault({}),
  })
  .superRefine((c, ctx) => {
    c.listeners.forEach((l, i) => {
      for (const p of listenerDifficultyProblems(c.difficulty, c.ethash, l)) ctx.addIssue({ code: "custom", path: ["listeners", i, ...p.path], input: p.input, message: p.message });
    });
  })
  .describe("stratum-edge configuration (TOML).");

export type Config = z.infer<typeof ConfigSchema>;

export const DEFAULT_CONFIG: Config = ConfigSchema.parse({});
