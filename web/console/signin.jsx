// Signing in: with the installation's OpenID Connect provider (authorization code with PKCE, the
// console a public client), or on the local stage as anyone (POST /console/local-token).
import { useEffect, useState } from "react";
import * as oauth from "oauth4webapi";
import { call, setToken } from "./api.js";
import { Problem } from "./ui.jsx";

// Kept in this tab across the provider's pages (sessionStorage): what only this tab's sign-in
// knows. The token itself is never stored.
const PENDING = "vellum.sign-in";

// Where the provider sends the person back: this page itself (the console, or the IIIF access
// service), as registered with the provider.
function redirectUri() {
  return window.location.origin + window.location.pathname;
}

function provider(oidc) {
  return { issuer: oidc.issuer, authorization_endpoint: oidc.authorize, token_endpoint: oidc.token };
}

async function startSignIn(oidc) {
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState(); // a callback this tab did not ask for is refused
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, back: window.location.search + window.location.hash }));
  const url = new URL(oidc.authorize);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: oidc.clientId,
    redirect_uri: redirectUri(),
    scope: oidc.scope,
    state,
    code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
  });
  window.location.assign(url);
}

// The provider's answer, taken from the address bar as this module loads, before anything
// renders: the code leaves the address bar and the history at once, used or not, and the views
// start where the person was when signing in began.
let callback = takeCallback();

function takeCallback() {
  const here = new URL(window.location.href);
  if (!here.searchParams.has("code") && !here.searchParams.has("error")) return null;
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
  sessionStorage.removeItem(PENDING);
  window.history.replaceState(null, "", redirectUri() + ((pending && pending.back) || ""));
  return { here, pending };
}

// The provider's answer traded for tokens: the access token, or null when this page load
// brought no answer (or it was used already).
async function finishSignIn(oidc, local) {
  if (!callback) return null;
  const { here, pending } = callback;
  callback = null;
  if (!pending) throw new Error("This sign-in was not started in this tab: sign in again.");
  const server = provider(oidc);
  const client = { client_id: oidc.clientId };
  let answer;
  try {
    answer = oauth.validateAuthResponse(server, client, here, pending.state);
  } catch (failure) {
    if (failure instanceof oauth.AuthorizationResponseError) throw failure; // the provider's refusal
    // Another state (or none): an answer to someone else's sign-in, perhaps forced on this tab.
    throw new Error("This answer from the sign-in provider is not for the sign-in started here: sign in again.");
  }
  // The local stage's stand-in providers live on http://127.0.0.1; everywhere else https only.
  const options = local ? { [oauth.allowInsecureRequests]: true } : {};
  const response = await oauth.authorizationCodeGrantRequest(
    server,
    client,
    oauth.None(),
    answer,
    redirectUri(),
    pending.verifier,
    options,
  );
  const tokens = await oauth.processAuthorizationCodeResponse(server, client, response);
  return tokens.access_token;
}

// What a failed sign-in shows: the provider's own words where it gave some, else the library's.
function explained(failure) {
  if (failure instanceof oauth.AuthorizationResponseError || failure instanceof oauth.ResponseBodyError) {
    const detail = failure.error_description ? `: ${failure.error_description}` : "";
    return { message: `Signing in failed (${failure.error}${detail}).` };
  }
  return { message: failure.message || "Signing in failed." };
}

// The token becomes the console's once the API has accepted it: a token it refuses (a provider
// set up for another audience, say) is a failed sign-in, not a sign-in that ended.
async function begin(token, onSignedIn) {
  const bearer = { Authorization: `Bearer ${token}` };
  await call("POST", "/session", undefined, bearer); // Uppy sends no headers: its requests carry this cookie
  const me = await call("GET", "/me", undefined, bearer);
  setToken(token);
  onSignedIn(me);
}

// Shown when the API refused the token mid-session: what ended it, in the API's words.
function Ended({ message }) {
  if (!message) return null;
  return (
    <p className="problem" role="status">
      Your sign-in has ended ({message.replace(/\.$/, "")}): sign in again to go on where you were.
    </p>
  );
}

function ProviderSignIn({ config, ended, onSignedIn }) {
  const oidc = config.signIn;
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(true);
  useEffect(() => {
    finishSignIn(oidc, config.stage === "local")
      .then((token) => (token ? begin(token, onSignedIn) : setBusy(false)))
      .catch((failure) => {
        setError(explained(failure));
        setBusy(false);
      });
  }, []); // eslint-disable-line react-hooks/exhaustive-deps
  return (
    <main>
      <h1>Sign in</h1>
      {busy ? (
        <p className="quiet">Signing in…</p>
      ) : (
        <>
          <Ended message={ended} />
          <p>You are signed out. Vellum signs you in with your organisation's account.</p>
          <button type="button" onClick={() => startSignIn(oidc).catch((failure) => setError(explained(failure)))}>
            Sign in
          </button>
        </>
      )}
      <Problem error={error} />
    </main>
  );
}

function LocalSignIn({ ended, onSignedIn }) {
  const [user, setUser] = useState("");
  const [admin, setAdmin] = useState(false);
  const [error, setError] = useState(null);
  const submit = async (event) => {
    event.preventDefault();
    setError(null);
    try {
      const { token } = await call("POST", "/console/local-token", { user: user.trim(), admin });
      await begin(token, onSignedIn);
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <main>
      <h1>Sign in</h1>
      <Ended message={ended} />
      <p>
        Vellum keeps files and the records that describe them. This is the local stage: sign in as anyone to try it.
      </p>
      <form className="sign-in" onSubmit={submit}>
        <label htmlFor="user">User name</label>
        <input id="user" name="user" autoComplete="username" required value={user} onChange={(e) => setUser(e.target.value)} />
        <label className="check">
          <input type="checkbox" checked={admin} onChange={(e) => setAdmin(e.target.checked)} aria-describedby="admin-note" />{" "}
          Administrator
        </label>
        <p id="admin-note" className="quiet">
          An administrator may change anything, raise quotas and remove published records.
        </p>
        <button type="submit">Sign in</button>
      </form>
      <Problem error={error} />
    </main>
  );
}

export function SignIn({ config, ended, onSignedIn }) {
  if (config.signIn && typeof config.signIn === "object") return <ProviderSignIn config={config} ended={ended} onSignedIn={onSignedIn} />;
  if (config.signIn === "local") return <LocalSignIn ended={ended} onSignedIn={onSignedIn} />;
  return (
    <main>
      <h1>Sign in</h1>
      <p>Signing in to this installation is not set up yet: its operator sets VELLUM_CONSOLE_CLIENT_ID and the provider's endpoints.</p>
    </main>
  );
}
