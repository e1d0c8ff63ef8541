//! The fake's hosted sign-in page, standing in for `https://app.plex.tv/auth`
//! so that a web app's whole sign-in runs on loopback: `GET /auth` answers a
//! page that reads the PIN's code and `forwardUrl` from its fragment
//! (`#?clientID=..&code=..&forwardUrl=..`, as the real page does) and shows
//! an "Approve" button; the button approves the PIN (`POST
//! /auth/approve?code=..`) and sends the browser to `forwardUrl`.

use httpmock::{HttpMockRequest, HttpMockResponse};

use super::{FakePlexTv, State};

const PAGE: &str = r#"<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Sign in to Plex (fake)</title>
<style>
 body { font-family: sans-serif; background: #1f2326; color: #eee; display: grid; place-items: center; height: 100vh; margin: 0; }
 main { background: #282d31; padding: 2em 3em; border-radius: 8px; text-align: center; }
 button { background: #e5a00d; border: 0; border-radius: 4px; padding: .7em 2em; font-size: 1.1em; cursor: pointer; }
</style></head>
<body><main>
<h1>Sign in to Plex</h1>
<p id="who">An app asks to sign in with your Plex account.</p>
<button id="approve">Approve</button>
<p id="status"></p>
</main>
<script>
 const params = new URLSearchParams(location.hash.replace(/^#!?\??/, ''));
 const product = params.get('context[device][product]');
 if (product) document.getElementById('who').textContent = product + ' asks to sign in with your Plex account.';
 document.getElementById('approve').addEventListener('click', async () => {
   const code = params.get('code') || '';
   const answer = await fetch('/auth/approve?code=' + encodeURIComponent(code), { method: 'POST' });
   if (!answer.ok) { document.getElementById('status').textContent = 'This code is unknown or expired.'; return; }
   const forward = params.get('forwardUrl');
   if (forward && /^https?:\/\//.test(forward)) location.href = forward;
   else document.getElementById('status').textContent = 'Approved: you can close this page.';
 });
</script>
</body></html>
"#;

pub(super) fn page(_: &mut State, _: &HttpMockRequest) -> HttpMockResponse {
    HttpMockResponse::builder()
        .status(200)
        .header("content-type", "text/html; charset=utf-8")
        .body(PAGE)
        .build()
}

/// `POST /auth/approve?code=..`: the user approves the PIN with this code.
pub(super) fn approve(state: &mut State, request: &HttpMockRequest) -> HttpMockResponse {
    let code = request
        .query_params()
        .into_iter()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v)
        .unwrap_or_default();
    super::approve_code(state, &code)
}

impl FakePlexTv {
    /// The fake's hosted sign-in page, for
    /// [`PlexTvBuilder::auth_page_url`](crate::PlexTvBuilder::auth_page_url):
    /// a page with an "Approve" button that approves the PIN and sends the
    /// browser to the sign-in's forward URL.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let fake = plex_tv::testing::FakePlexTv::start().await;
    /// assert_eq!(fake.auth_page_url(), format!("{}/auth", fake.base_url()));
    /// # }
    /// ```
    pub fn auth_page_url(&self) -> String {
        format!("{}/auth", self.base_url())
    }
}
