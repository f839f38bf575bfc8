// Signing with a key that never leaves this browser.
//
// The key is ECDSA P-256, made by WebCrypto with extractable = false and kept as a CryptoKey in IndexedDB: page
// scripts can ask it to sign, nobody can read it out, and the gateway only ever receives its public key and
// signatures. WebCrypto hashes with SHA-256 itself and returns P1363 r||s signatures; the gateway converts them to
// the low-S DER form Fabric verifies.
//
// One key per user per portal (IndexedDB is per origin, and each organisation's portal is its own origin).
"use strict";

const SupplyChainSigning = (() => {
  const DATABASE = "supplychain-signing", STORE = "keys", ALGORITHM = { name: "ECDSA", namedCurve: "P-256" };
  const SIGNATURE = { name: "ECDSA", hash: "SHA-256" };
  const base = document.querySelector("meta[name='portal-base']")?.content || "/portal";

  function request(idbRequest) {
    return new Promise((resolve, reject) => {
      idbRequest.onsuccess = () => resolve(idbRequest.result);
      idbRequest.onerror = () => reject(idbRequest.error);
    });
  }

  async function store(mode) {
    const open = indexedDB.open(DATABASE, 1);
    open.onupgradeneeded = () => open.result.createObjectStore(STORE, { keyPath: "enrollmentId" });
    const db = await request(open);
    return db.transaction(STORE, mode).objectStore(STORE);
  }

  /** This browser's key record for the user: {enrollmentId, keyPair, keyId, certificate}, or undefined. */
  async function loadKey(enrollmentId) {
    return request((await store("readonly")).get(enrollmentId));
  }

  async function saveKey(record) {
    return request((await store("readwrite")).put(record));
  }

  function toBase64(buffer) {
    return btoa(String.fromCharCode(...new Uint8Array(buffer)));
  }

  function fromBase64(text) {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  }

  async function sign(privateKey, bytes) {
    return toBase64(await crypto.subtle.sign(SIGNATURE, privateKey, bytes));
  }

  /** POST JSON to a portal signing call; throws an Error with the problem's code and detail when refused. */
  async function call(path, body) {
    const token = document.querySelector("meta[name='csrf-token']").content;
    const response = await fetch(base + path, {
      method: "POST", credentials: "same-origin", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": token },
    });
    const answer = await response.json().catch(() => ({ detail: `the gateway answered ${response.status}` }));
    if (!response.ok) {
      const error = new Error(answer.code ? `${answer.code}: ${answer.detail}` : answer.detail);
      error.problem = answer;
      throw error;
    }
    return answer;
  }

  /** Make a non-extractable key here and have the organisation's CA certify it for the signed-in user. */
  async function createKey(enrollmentId, label) {
    const keyPair = await crypto.subtle.generateKey(ALGORITHM, false, ["sign", "verify"]);
    const spki = toBase64(await crypto.subtle.exportKey("spki", keyPair.publicKey));
    const info = await call("/signing/keys/request-info", { publicKey: spki });
    const signature = await sign(keyPair.privateKey, fromBase64(info.certificationRequestInfo));
    const key = await call("/signing/keys", { publicKey: spki, signature, label });
    const record = { enrollmentId, keyPair, keyId: key.keyId, certificate: key.certificate };
    await saveKey(record);
    return record;
  }

  /** Sign the UTF-8 bytes of a text (a document's signing payload) with this browser's key; base64 P1363. */
  async function signText(record, text) {
    return sign(record.keyPair.privateKey, new TextEncoder().encode(text));
  }

  /** Prepare a transaction created by this browser's key, sign its proposal and its transaction; the result. */
  async function submit(record, transaction, parameters, progress) {
    const report = progress || (() => {});
    report("preparing the proposal");
    let pending = await call("/signing/transactions", { keyId: record.keyId, transaction, parameters });
    const path = `/signing/transactions/${encodeURIComponent(pending.id)}`;
    report("signing the proposal; the peers endorse it");
    pending = await call(`${path}/proposal-signature`,
      { signature: await sign(record.keyPair.privateKey, fromBase64(pending.message)) });
    report("signing the transaction; it is ordered and committed");
    pending = await call(`${path}/transaction-signature`,
      { signature: await sign(record.keyPair.privateKey, fromBase64(pending.message)) });
    return pending;
  }

  /** Run ``task(record, report)`` with this browser's key for the user the form names, showing progress and the
   *  outcome in the form's ``.signing-status``; ``done(result)`` after a commit. */
  async function run(form, button, task, done) {
    const status = form.querySelector(".signing-status");
    const show = (text, kind) => { status.textContent = text; status.className = `signing-status flash ${kind}`; };
    button.disabled = true;
    try {
      const record = await loadKey(form.dataset.enrollmentId);
      if (!record) throw new Error("this browser has no signing key yet: create one on the Signing key page");
      const result = await task(record, (step) => show(step, "info"));
      show(`committed in block ${result.blockNumber} (transaction ${result.transactionId})`, "success");
      form.dataset.committed = result.transactionId;
      if (done) done(result);
    } catch (error) {
      show(error.message, "error");
    } finally {
      button.disabled = false;
    }
  }

  /** On the form's submit, ``collect(form, record)`` gives [transaction, parameters] to sign with this browser. */
  function bindForm(form, collect, done) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      run(form, form.querySelector("button[type='submit']"), async (record, report) => {
        const [transaction, parameters] = await collect(form, record);
        return submit(record, transaction, parameters, report);
      }, done);
    });
  }

  /** A document signing form: the button signs the version's payload, then SignDocument, all with this browser. */
  function bindDocumentSigning(form, button, done) {
    button.addEventListener("click", () => run(form, button, async (record, report) => {
      const fields = Object.fromEntries(new FormData(form));
      delete fields.csrf_token;
      const version = Number(form.dataset.version);
      report("signing the document");
      const payload = await call("/signing/payload",
        { document: form.dataset.document, version, party: form.dataset.party, form: fields });
      const signature = await signText(record, payload.payload);
      return submit(record, "SignDocument",
        { document: form.dataset.document, version, signature, statement: payload.statement }, report);
    }, done));
  }

  return { loadKey, createKey, signText, submit, bindForm, bindDocumentSigning, call };
})();
