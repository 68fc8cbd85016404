// Signing in: on the local stage, as anyone (POST /console/local-token).
import { useState } from "react";
import { call, setToken } from "./api.js";
import { Problem } from "./ui.jsx";

export function SignIn({ config, onSignedIn }) {
  const [user, setUser] = useState("");
  const [admin, setAdmin] = useState(false);
  const [error, setError] = useState(null);
  if (config.signIn !== "local") {
    return (
      <main>
        <h1>Sign in</h1>
        <p>Signing in to this installation is not set up yet.</p>
      </main>
    );
  }
  const submit = async (event) => {
    event.preventDefault();
    setError(null);
    try {
      const { token } = await call("POST", "/console/local-token", { user: user.trim(), admin });
      setToken(token);
      await call("POST", "/session"); // Uppy sends no headers: its requests carry this cookie
      onSignedIn(await call("GET", "/me"));
    } catch (failure) {
      setError(failure);
    }
  };
  return (
    <main>
      <h1>Sign in</h1>
      <p>This is the local stage: sign in as anyone to try Vellum.</p>
      <form className="sign-in" onSubmit={submit}>
        <label htmlFor="user">User name</label>
        <input id="user" name="user" autoComplete="username" required value={user} onChange={(e) => setUser(e.target.value)} />
        <label className="check">
          <input type="checkbox" checked={admin} onChange={(e) => setAdmin(e.target.checked)} /> Administrator
        </label>
        <button type="submit">Sign in</button>
      </form>
      <Problem error={error} />
    </main>
  );
}
