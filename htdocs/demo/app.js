/* app.js: the jwtgate demo app, a public OAuth 2.0 / OpenID Connect client
 * in the browser.  index.html (data-page="app") shows the state and the
 * buttons; callback.html (data-page="callback") redeems the code.  Tokens
 * live in this tab's sessionStorage (see index.html for why). */
"use strict";

(function () {
	var CLIENT_ID = "demo-app";
	var SCOPE = "openid profile email offline_access";
	var ORIGIN = window.location.origin;	/* the issuer of the demo */
	var REDIRECT_URI = ORIGIN + "/demo/callback.html";
	var POST_LOGOUT_URI = ORIGIN + "/demo/";
	var COOKIE = "jwtgate_demo_at";		/* bearer_cookie of the demo */
	var KEY_TOKENS = "jwtgate-demo.tokens";
	var KEY_PENDING = "jwtgate-demo.pending";
	var KEY_COOKIE = "jwtgate-demo.cookie";	/* set: the gate cookie is */

	function $(id) {
		return document.getElementById(id);
	}

	function showError(message) {
		var p = $("error");

		p.textContent = message;
		p.hidden = false;
	}

	function clearError() {
		$("error").hidden = true;
	}

	/* ---------------------------------------------------- encoding */

	function b64url(bytes) {
		var s = "";
		var i;

		for (i = 0; i < bytes.length; i++)
			s += String.fromCharCode(bytes[i]);
		return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
	}

	function randomString(nbytes) {
		var b = new Uint8Array(nbytes);

		crypto.getRandomValues(b);
		return b64url(b);
	}

	/* The claims of a JWT, NOT verified (see index.html). */
	function decodeJwt(token) {
		var part = token.split(".")[1];
		var bin, bytes, i;

		part = part.replace(/-/g, "+").replace(/_/g, "/");
		while (part.length % 4)
			part += "=";
		bin = atob(part);
		bytes = new Uint8Array(bin.length);
		for (i = 0; i < bin.length; i++)
			bytes[i] = bin.charCodeAt(i);
		return JSON.parse(new TextDecoder().decode(bytes));
	}

	function form(params) {
		return new URLSearchParams(params).toString();
	}

	/* ---------------------------------------------------- storage */

	function loadTokens() {
		var s = sessionStorage.getItem(KEY_TOKENS);

		return s ? JSON.parse(s) : null;
	}

	function saveTokens(answer, old) {
		var t = {
			access_token: answer.access_token,
			id_token: answer.id_token || (old && old.id_token),
			refresh_token: answer.refresh_token || null,
			scope: answer.scope || (old && old.scope) || "",
			nonce: old ? old.nonce : null,
			userinfo: old ? old.userinfo : null
		};

		sessionStorage.setItem(KEY_TOKENS, JSON.stringify(t));
		return t;
	}

	function setCookie(token) {
		var exp = decodeJwt(token).exp;
		var maxAge = Math.max(0, exp - Math.floor(Date.now() / 1000));
		var secure = window.location.protocol === "https:" ? "; Secure" : "";

		document.cookie = COOKIE + "=" + token + "; Path=/protected/; Max-Age=" +
			maxAge + "; SameSite=Strict" + secure;
		sessionStorage.setItem(KEY_COOKIE, "1");
	}

	function dropCookie() {
		document.cookie = COOKIE + "=; Path=/protected/; Max-Age=0; SameSite=Strict";
		sessionStorage.removeItem(KEY_COOKIE);
	}

	/* ---------------------------------------------------- token endpoint */

	async function tokenRequest(path, params) {
		var r = await fetch(path, {
			method: "POST",
			credentials: "omit",
			headers: { "Content-Type": "application/x-www-form-urlencoded" },
			body: form(params)
		});
		var text = await r.text();
		var body = null;

		try {
			body = text ? JSON.parse(text) : null;
		} catch (e) {
			body = null;
		}
		if (!r.ok) {
			throw new Error(path + " answered " + r.status +
				(body && body.error ? ": " + body.error +
				 (body.error_description ? " (" + body.error_description + ")" : "") : ""));
		}
		return body;
	}

	/* Checks an ID token that came straight from the token endpoint. */
	function checkIdToken(idToken, nonce) {
		var c = decodeJwt(idToken);
		var aud = Array.isArray(c.aud) ? c.aud : [c.aud];
		var now = Math.floor(Date.now() / 1000);

		if (c.iss !== ORIGIN)
			throw new Error("the ID token's issuer is " + c.iss + ", not " + ORIGIN);
		if (aud.indexOf(CLIENT_ID) < 0)
			throw new Error("the ID token is not for " + CLIENT_ID);
		if (nonce !== null && c.nonce !== nonce)
			throw new Error("the ID token's nonce does not match");
		if (typeof c.exp !== "number" || c.exp < now - 60)
			throw new Error("the ID token has expired");
	}

	/* ---------------------------------------------------- the flow */

	async function login() {
		var verifier = randomString(32);
		var state = randomString(16);
		var nonce = randomString(16);
		var digest = await crypto.subtle.digest("SHA-256",
			new TextEncoder().encode(verifier));
		var q = {
			response_type: "code",
			client_id: CLIENT_ID,
			redirect_uri: REDIRECT_URI,
			scope: SCOPE,
			state: state,
			nonce: nonce,
			code_challenge: b64url(new Uint8Array(digest)),
			code_challenge_method: "S256"
		};

		sessionStorage.setItem(KEY_PENDING, JSON.stringify({
			verifier: verifier, state: state, nonce: nonce
		}));
		window.location.assign("/oauth/authorize?" + form(q));
	}

	async function callback() {
		var q = new URLSearchParams(window.location.search);
		var pending = JSON.parse(sessionStorage.getItem(KEY_PENDING) || "null");
		var answer, tokens;

		/* The code must not stay in the history or in a Referer. */
		history.replaceState(null, "", "/demo/callback.html");
		sessionStorage.removeItem(KEY_PENDING);
		if (pending === null)
			throw new Error("no login was started in this tab");
		if (q.get("state") !== pending.state)
			throw new Error("the state does not match: not our login");
		if (q.get("iss") !== null && q.get("iss") !== ORIGIN)
			throw new Error("the answer comes from another issuer (RFC 9207)");
		if (q.get("error"))
			throw new Error("the login failed: " + q.get("error") +
				(q.get("error_description") ? " (" + q.get("error_description") + ")" : ""));
		if (!q.get("code"))
			throw new Error("the answer holds no code");
		answer = await tokenRequest("/oauth/token", {
			grant_type: "authorization_code",
			code: q.get("code"),
			redirect_uri: REDIRECT_URI,
			client_id: CLIENT_ID,
			code_verifier: pending.verifier
		});
		if (!answer.id_token)
			throw new Error("the token endpoint sent no ID token");
		checkIdToken(answer.id_token, pending.nonce);
		tokens = saveTokens(answer, null);
		tokens.nonce = pending.nonce;
		/* The name to greet the user with: the ID token carries no
		 * profile claims, the UserInfo endpoint does. */
		tokens.userinfo = await userinfo(tokens.access_token);
		sessionStorage.setItem(KEY_TOKENS, JSON.stringify(tokens));
		window.location.replace("/demo/");
	}

	/* GET /oauth/userinfo; null when it fails (the greeting falls back
	 * to the sub). */
	async function userinfo(accessToken) {
		var r = await fetch("/oauth/userinfo", {
			credentials: "omit",
			headers: { "Authorization": "Bearer " + accessToken }
		});

		return r.ok ? r.json() : null;
	}

	async function refresh() {
		var old = loadTokens();
		var answer;

		if (!old || !old.refresh_token)
			throw new Error("there is no refresh token");
		answer = await tokenRequest("/oauth/token", {
			grant_type: "refresh_token",
			refresh_token: old.refresh_token,
			client_id: CLIENT_ID
		});
		if (answer.id_token)
			checkIdToken(answer.id_token, null);
		saveTokens(answer, old);
		/* A gate cookie set before carries the new access token now
		 * (this page cannot see it: its Path is /protected/). */
		if (sessionStorage.getItem(KEY_COOKIE))
			setCookie(answer.access_token);
		render();
	}

	async function logout() {
		var t = loadTokens();
		var q = { post_logout_redirect_uri: POST_LOGOUT_URI, state: randomString(16) };

		sessionStorage.removeItem(KEY_TOKENS);
		dropCookie();
		if (t) {
			/* Revoking is best effort: the logout goes on regardless. */
			try {
				if (t.refresh_token) {
					await tokenRequest("/oauth/revoke", {
						token: t.refresh_token,
						token_type_hint: "refresh_token",
						client_id: CLIENT_ID
					});
				}
				await tokenRequest("/oauth/revoke", {
					token: t.access_token,
					token_type_hint: "access_token",
					client_id: CLIENT_ID
				});
			} catch (e) {
				/* nothing to do */
			}
			if (t.id_token)
				q.id_token_hint = t.id_token;
			else
				q.client_id = CLIENT_ID;
		} else {
			q.client_id = CLIENT_ID;
		}
		window.location.assign("/oauth/logout?" + form(q));
	}

	async function callApi() {
		var t = loadTokens();
		var r, text;

		r = await fetch("/api/me", {
			credentials: "omit",
			headers: { "Authorization": "Bearer " + t.access_token }
		});
		text = await r.text();
		$("api-status").textContent = "GET /api/me: " + r.status + " " + r.statusText +
			(r.headers.get("WWW-Authenticate") ?
			 ", WWW-Authenticate: " + r.headers.get("WWW-Authenticate") : "");
		try {
			text = JSON.stringify(JSON.parse(text), null, 2);
		} catch (e) {
			/* show it as it came */
		}
		$("api-answer").textContent = text;
	}

	async function fetchProtected() {
		var t = loadTokens();
		var r, text, doc;

		r = await fetch("/protected/", {
			credentials: "omit",
			headers: { "Authorization": "Bearer " + t.access_token }
		});
		text = await r.text();
		$("api-status").textContent = "GET /protected/: " + r.status + " " + r.statusText +
			(r.headers.get("WWW-Authenticate") ?
			 ", WWW-Authenticate: " + r.headers.get("WWW-Authenticate") : "");
		/* Shown as text, never as markup of this page. */
		doc = new DOMParser().parseFromString(text, "text/html");
		$("api-answer").textContent = doc.body ?
			doc.body.textContent.replace(/\n\s*\n/g, "\n").trim() : text;
	}

	function openProtected() {
		var t = loadTokens();

		setCookie(t.access_token);
		window.open("/protected/", "_blank", "noopener");
	}

	/* ---------------------------------------------------- display */

	function when(exp) {
		return new Date(exp * 1000).toLocaleString();
	}

	function left(exp, el) {
		var s = exp - Math.floor(Date.now() / 1000);

		if (s > 0) {
			el.textContent = "in " + s + " s";
			el.className = "ok";
		} else {
			el.textContent = "expired " + (-s) + " s ago";
			el.className = "expired";
		}
	}

	function render() {
		var t = loadTokens();
		var at, id;

		$("signed-out").hidden = t !== null;
		$("signed-in").hidden = t === null;
		if (t === null)
			return;
		at = decodeJwt(t.access_token);
		id = t.id_token ? decodeJwt(t.id_token) : {};
		$("who").textContent = (t.userinfo && (t.userinfo.name || t.userinfo.email)) ||
			id.name || at.sub;
		$("at-exp").textContent = when(at.exp);
		$("id-exp").textContent = id.exp ? when(id.exp) : "-";
		$("rt-state").textContent = t.refresh_token ?
			"held (rotated on every refresh)" : "none";
		$("refresh").disabled = !t.refresh_token;
		$("scope").textContent = t.scope;
		$("at-claims").textContent = JSON.stringify(at, null, 2);
		$("id-claims").textContent = JSON.stringify(id, null, 2);
		tick();
	}

	function tick() {
		var t = loadTokens();

		if (t === null)
			return;
		left(decodeJwt(t.access_token).exp, $("at-left"));
		if (t.id_token)
			left(decodeJwt(t.id_token).exp, $("id-left"));
	}

	/* Runs an action from a button, showing what went wrong. */
	function action(fn) {
		return function () {
			clearError();
			fn().catch(function (e) {
				showError(e.message);
			});
		};
	}

	function startApp() {
		$("login").addEventListener("click", action(login));
		$("logout").addEventListener("click", action(logout));
		$("refresh").addEventListener("click", action(refresh));
		$("call-api").addEventListener("click", action(callApi));
		$("fetch-protected").addEventListener("click", action(fetchProtected));
		$("open-protected").addEventListener("click", action(async function () {
			openProtected();
		}));
		try {
			render();
		} catch (e) {
			sessionStorage.removeItem(KEY_TOKENS);
			showError("forgot unreadable tokens: " + e.message);
			render();
		}
		window.setInterval(tick, 1000);
	}

	document.addEventListener("DOMContentLoaded", function () {
		if (document.body.dataset.page === "callback") {
			callback().catch(function (e) {
				$("progress").hidden = true;
				showError(e.message);
			});
		} else {
			startApp();
		}
	});
})();
