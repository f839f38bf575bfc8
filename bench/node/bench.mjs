// Load generator for the Fabric Gateway through the official Node client (@hyperledger/fabric-gateway).
//
// Usage: node bench.mjs CONFIG.json
//
// CONFIG fields (paths are read as given):
//   endpoint        "127.0.0.1:37050"           gateway peer address
//   hostOverride    "peer0.producer.example"    host name in the peer's TLS certificate (optional)
//   tlsCaPath       path to the peer's TLS CA certificate (PEM)
//   mspId, certPath, keyPath                    the client identity (X.509 certificate and private key, PEM)
//   channel, chaincode
//   operation       "submit" (PutRecord of a distinct key per call) | "evaluate" (GetRecord of readKey)
//   concurrency     number of concurrent async workers
//   calls           total number of calls, or
//   durationSeconds run for this long instead
//   keyPrefix       submit writes keys "<keyPrefix>-<n>"
//   valueBytes      size of the written value (default 100)
//   readKey         key read by evaluate (default: "<keyPrefix>-seed", written before timing starts)
//   timeoutsSeconds {evaluate, endorse, submit, commitStatus} deadlines (defaults 5, 15, 5, 60)
//
// Prints one JSON object: calls, errors (count and first messages), seconds, throughput (successful calls/s),
// latency percentiles in ms (successful calls) and client CPU ms per call (process.cpuUsage over the timed run).
// One gRPC client and one Gateway are shared by all workers; one warm-up call precedes timing.

import * as grpc from '@grpc/grpc-js';
import { connect, signers } from '@hyperledger/fabric-gateway';
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const MAX_ERROR_MESSAGES = 5;

/** Deadline options for one kind of Gateway call. */
function deadline(seconds) {
    return () => ({ deadline: Date.now() + seconds * 1000 });
}

/** Nearest-rank percentile of an ascending array, in the array's unit. */
function percentile(sorted, q) {
    if (sorted.length === 0) return null;
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** Round to three decimals (null stays null). */
function round(x) {
    return x === null ? null : Math.round(x * 1000) / 1000;
}

/** A one-line description of a Gateway error, with the per-peer details when there are any. */
function describe(err) {
    const details = (err.details ?? []).map((d) => `${d.mspId}@${d.address}: ${d.message}`);
    const text = `${err.name ?? 'Error'}: ${err.message}`;
    return details.length ? `${text} [${details.join('; ')}]` : text;
}

/** Connect one gRPC client and one Gateway from the config. */
function open(config) {
    const options = config.hostOverride ? { 'grpc.ssl_target_name_override': config.hostOverride } : {};
    const client = new grpc.Client(
        config.endpoint,
        grpc.credentials.createSsl(readFileSync(config.tlsCaPath)),
        options,
    );
    const t = { evaluate: 5, endorse: 15, submit: 5, commitStatus: 60, ...(config.timeoutsSeconds ?? {}) };
    const gateway = connect({
        client,
        identity: { mspId: config.mspId, credentials: readFileSync(config.certPath) },
        signer: signers.newPrivateKeySigner(createPrivateKey(readFileSync(config.keyPath))),
        evaluateOptions: deadline(t.evaluate),
        endorseOptions: deadline(t.endorse),
        submitOptions: deadline(t.submit),
        commitStatusOptions: deadline(t.commitStatus),
    });
    return { client, gateway };
}

async function main() {
    if (process.argv.length !== 3) {
        console.error('usage: node bench.mjs CONFIG.json');
        process.exit(2);
    }
    const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
    const concurrency = Number(config.concurrency ?? 1);
    const calls = config.calls === undefined ? Infinity : Number(config.calls);
    const durationMs = config.durationSeconds === undefined ? Infinity : Number(config.durationSeconds) * 1000;
    if (calls === Infinity && durationMs === Infinity) throw new Error('config needs calls or durationSeconds');
    if (!['submit', 'evaluate'].includes(config.operation)) throw new Error('operation must be submit or evaluate');

    const { client, gateway } = open(config);
    const contract = gateway.getNetwork(config.channel).getContract(config.chaincode);
    const prefix = config.keyPrefix ?? `bench-node-${Date.now()}`;
    const value = 'v'.repeat(Number(config.valueBytes ?? 100));
    let readKey = config.readKey;
    let call;
    if (config.operation === 'submit') {
        call = (n) => contract.submitTransaction('PutRecord', `${prefix}-${n}`, value);
    } else {
        call = () => contract.evaluateTransaction('GetRecord', readKey);
    }

    try {
        // Warm-up (not timed): opens the connection; also writes the read key when none was given.
        if (readKey === undefined && config.operation === 'evaluate') {
            readKey = `${prefix}-seed`;
            await contract.submitTransaction('PutRecord', readKey, value);
        }
        await (config.operation === 'submit' ? contract.submitTransaction('PutRecord', `${prefix}-warmup`, value) : call());

        const latencies = [];
        const errorMessages = [];
        let errors = 0;
        let next = 0;
        const cpuStart = process.cpuUsage();
        const start = performance.now();
        const worker = async () => {
            while (next < calls && performance.now() - start < durationMs) {
                const n = next++;
                const t0 = performance.now();
                try {
                    await call(n);
                    latencies.push(performance.now() - t0);
                } catch (err) {
                    errors++;
                    if (errorMessages.length < MAX_ERROR_MESSAGES) errorMessages.push(describe(err));
                }
            }
        };
        await Promise.all(Array.from({ length: concurrency }, worker));
        const seconds = (performance.now() - start) / 1000;
        const cpu = process.cpuUsage(cpuStart);

        latencies.sort((a, b) => a - b);
        const done = latencies.length + errors;
        const result = {
            client: 'node',
            operation: config.operation,
            concurrency,
            calls: done,
            errors,
            error_messages: errorMessages,
            seconds: round(seconds),
            throughput: round(latencies.length / seconds),
            latency_ms: {
                p50: round(percentile(latencies, 0.5)),
                p95: round(percentile(latencies, 0.95)),
                p99: round(percentile(latencies, 0.99)),
                mean: round(latencies.length ? latencies.reduce((a, b) => a + b, 0) / latencies.length : null),
                max: round(latencies.length ? latencies[latencies.length - 1] : null),
            },
            cpu_ms_per_call: round(done ? (cpu.user + cpu.system) / 1000 / done : null),
            cpu_ms: round((cpu.user + cpu.system) / 1000),
            latencies_ms: latencies.map(round),
            versions: { node: process.version },
        };
        console.log(JSON.stringify(result));
    } finally {
        gateway.close();
        client.close();
    }
}

main().catch((err) => {
    console.error(describe(err));
    process.exit(1);
});
