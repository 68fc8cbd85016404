// The console's only way to Vellum: its public HTTP API, with the signed-in user's bearer token,
// kept in memory (a reload signs out; nothing is left in storage for another script to read).

let token = null;

export class ApiError extends Error {
  constructor(status, message, errors) {
    super(message);
    this.status = status;
    this.errors = errors || [];
  }
}

export function signedIn() {
  return token !== null;
}

export function setToken(value) {
  token = value;
}

// Told when the API refuses the token (it expired, or was never good): the console then shows
// its signed-out state, with why, rather than an error on every action.
let signInEnded = () => {};
export function onSignInEnded(listener) {
  signInEnded = listener;
}

export async function call(method, path, body, extraHeaders = {}) {
  const headers = { Accept: "application/json", ...extraHeaders };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, "Vellum could not be reached: check the connection and try again.");
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    // Every API error is {status, message, errors?}: show its message, never anything else.
    const failure = new ApiError(response.status, (data && data.message) || `The request failed (${response.status}).`, data && data.errors);
    if (response.status === 401 && token && headers.Authorization === `Bearer ${token}`) {
      token = null;
      signInEnded(failure.message);
    }
    throw failure;
  }
  return data;
}

// A draft's metadata and access are written together: the change given over what the record has,
// refused (412) if someone saved since this revision.
export function saveDraft(record, change) {
  const body = { metadata: record.metadata, access: record.access, ...change };
  return call("PUT", `/records/${record.id}`, body, { "If-Match": `"${record.revision_id}"` });
}
