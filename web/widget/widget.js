// Concierge chat widget (ES2020, no dependencies), for any site:
//   <script src="https://HOST/widget.js" data-company-key="KEY" async></script>
// Identity (optional): data-external-id, data-user-hash, data-name, data-email, or
// window.ConciergeSettings = {externalId, userHash, name, email}. The API is …/graphql beside it.
(() => {
	'use strict';
	const script = document.currentScript || document.querySelector('script[data-company-key]');
	const KEY = script && (script.dataset.companyKey || '').trim();
	if (!KEY) return console.warn('Concierge widget: data-company-key is missing');
	const loaded = (window.__conciergeWidgets = window.__conciergeWidgets || {});
	if (loaded[KEY]) return;
	loaded[KEY] = true;

	const API = script.dataset.apiUrl || new URL('graphql', script.src || location.href).href;
	const SET = Object.assign({}, window.ConciergeSettings);
	for (const k of ['externalId', 'userHash', 'name', 'email']) if (script.dataset[k]) SET[k] = script.dataset[k];
	const STORE = 'concierge:' + KEY;
	const MAX = 5000;

	const MSG = '{id seq senderType senderName body clientMessageID createdAt citations{title url page snippet}}';
	const Q_CONFIG = 'query($k:String!){widgetConfig(companyKey:$k){companyName logoURL brandColor greeting assistantName requireIdentity open awayMessage}}';
	const M_START = 'mutation($in:StartConversationInput!){startConversation(input:$in){token conversation{id status}}}';
	const M_SEND = `mutation($c:ID!,$b:String!,$k:String){sendMessage(conversationId:$c,body:$b,clientMessageId:$k)${MSG}}`;
	const M_HUMAN = 'mutation($c:ID!){requestHuman(conversationId:$c){status}}';
	const M_TYPING = 'mutation($c:ID!,$t:Boolean!){setTyping(conversationId:$c,typing:$t)}';
	const M_CLOSE = 'mutation($c:ID!){closeConversation(id:$c){status}}';
	const M_RATE = 'mutation($c:ID!,$r:Int!,$m:String){rateConversation(conversationId:$c,rating:$r,comment:$m){id}}';
	const S_EVENTS = `subscription($c:ID!,$a:ID){conversationEvents(conversationId:$c,after:$a){
		kind messageID delta typing{senderType name typing} conversation{status} message${MSG}}}`;

	const load = () => { try { return JSON.parse(localStorage.getItem(STORE)) || {}; } catch (_) { return {}; } };
	const save = (p) => { try { localStorage.setItem(STORE, JSON.stringify(Object.assign(load(), p))); } catch (_) { /* private mode */ } };

	const ApiError = (code, msg, ext) => Object.assign(new Error(msg || code), { code, ext: ext || {} });
	async function gql(query, variables, token) {
		const headers = { 'Content-Type': 'application/json' };
		if (token) headers.Authorization = 'Bearer ' + token;
		let res, body;
		try {
			res = await fetch(API, { method: 'POST', headers, credentials: 'omit', body: JSON.stringify({ query, variables }) });
		} catch (_) { throw ApiError('NETWORK'); }
		try { body = await res.json(); } catch (_) { throw ApiError(res.status >= 500 ? 'NETWORK' : 'INTERNAL'); }
		const err = body.errors && body.errors[0];
		if (err) throw ApiError((err.extensions && err.extensions.code) || 'INTERNAL', err.message, err.extensions);
		if (!body.data) throw ApiError('INTERNAL');
		return body.data;
	}
	const retryable = (e) => e.code === 'NETWORK' || e.code === 'SERVICE_UNAVAILABLE';
	const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
	const backoff = (n) => Math.min(30000, 500 * 2 ** n) * (0.75 + Math.random() / 2);
	const uuid = () => crypto.randomUUID ? crypto.randomUUID() // not on plain-http sites
		: [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');

	let cfg;
	function describe(e) {
		const n = Number(e.ext.retryAfterSeconds);
		switch (e.code) {
			case 'NETWORK': return "Can't reach the chat server. Check your connection.";
			case 'RATE_LIMITED': return `You're sending messages too fast; try again in ${n > 0 ? n + ' s' : 'a moment'}.`;
			case 'BAD_USER_INPUT': case 'CONFLICT': return e.message.charAt(0).toUpperCase() + e.message.slice(1).replace(/[^.!?]$/, '$&.');
			case 'UNAUTHENTICATED':
				return SET.externalId ? 'We could not verify who you are. Please sign in again.'
					: cfg && cfg.requireIdentity ? 'Please sign in to chat with us.' : 'Your chat session has expired. Please try again.';
			case 'FORBIDDEN': return 'Chat is not available on this site.';
			case 'NOT_FOUND': return 'This chat is not available.';
			default: return 'Something went wrong. Please try again.';
		}
	}

	// Text only: nothing from the server is parsed as HTML.
	function h(tag, attrs, ...kids) {
		const el = document.createElement(tag);
		for (const [k, v] of Object.entries(attrs || {})) {
			if (v == null || v === false) continue;
			if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
			else el.setAttribute(k, v === true ? '' : v);
		}
		for (const c of kids) if (c != null && c !== false) el.append(c);
		return el;
	}
	const div = (cls, ...kids) => h('div', { class: cls }, ...kids);
	const button = (cls, label, onclick, attrs) => h('button', Object.assign({ class: cls, type: 'button', onclick }, attrs), label);
	const safeURL = (s) => {
		try { const u = new URL(s, API); return s && /^https?:$/.test(u.protocol) ? u.href : null; } catch (_) { return null; }
	};
	const link = (href, text) => h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, text);
	function linkify(text) {
		const f = document.createDocumentFragment();
		let i = 0;
		for (const m of text.matchAll(/\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g)) {
			f.append(text.slice(i, m.index), link(m[0], m[0]));
			i = m.index + m[0].length;
		}
		f.append(text.slice(i));
		return f;
	}
	function icon(d) { // no innerHTML anywhere: fine on Trusted Types sites
		const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
		const path = svg.appendChild(document.createElementNS(svg.namespaceURI, 'path'));
		for (const [k, v] of [['viewBox', '0 0 24 24'], ['aria-hidden', 'true'], ['fill', 'currentColor']]) svg.setAttribute(k, v);
		path.setAttribute('d', d);
		return svg;
	}
	const chatIcon = () => icon('M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z');
	const closeIcon = () => icon('M5.3 6.7l1.4-1.4L12 10.6l5.3-5.3 1.4 1.4-5.3 5.3 5.3 5.3-1.4 1.4-5.3-5.3-5.3 5.3-1.4-1.4 5.3-5.3z');

	const CSS = `:host{all:initial}*{box-sizing:border-box}[hidden]{display:none!important}
.root{position:fixed;right:20px;bottom:20px;z-index:2147483000;font:15px/1.45 system-ui,sans-serif;color:#111827}
button{font:inherit;cursor:pointer}button:disabled,textarea:disabled{opacity:.55;cursor:default}
:focus-visible{outline:3px solid #2563eb;outline-offset:2px}
.launcher,.send,.primary{border:0;background:var(--brand);color:var(--on-brand)}
.launcher{display:flex;align-items:center;justify-content:center;width:58px;height:58px;margin-left:auto;border-radius:50%;box-shadow:0 4px 14px #0004}
svg{width:28px;height:28px}.x svg{width:24px;height:24px}
.panel{position:absolute;right:0;bottom:72px;display:flex;flex-direction:column;width:370px;max-width:calc(100vw - 40px);height:590px;max-height:calc(100vh - 110px);background:#fff;border-radius:14px;box-shadow:0 10px 40px #0004;overflow:hidden}
header{display:flex;align-items:center;gap:10px;padding:14px 12px 14px 16px;background:var(--brand);color:var(--on-brand)}
header img{width:36px;height:36px;border-radius:8px;object-fit:cover}
h2{margin:0;font-size:16px}header p{margin:0;font-size:13px;opacity:.85}
.x,.link,.error button{margin-left:auto;padding:0;border:0;background:none;color:inherit}
.note{padding:8px 14px;background:#fef3c7;color:#78350f;font-size:13px}
.log{flex:1;display:flex;flex-direction:column;gap:10px;padding:14px;overflow-y:auto;background:#f9fafb}
.msg{display:flex;flex-direction:column;align-items:flex-start;max-width:85%}
.who,.state{margin:0 4px 2px;font-size:12px;color:#6b7280}
.body{padding:9px 12px;border:1px solid #e5e7eb;border-radius:14px;background:#fff;white-space:pre-wrap;overflow-wrap:anywhere}
a{color:inherit}
.visitor{align-self:flex-end;align-items:flex-end}.visitor .body{background:var(--brand);color:var(--on-brand);border-color:transparent}
.system{align-self:center;align-items:center;max-width:92%;text-align:center}.system .body{padding:2px 8px;border:0;background:none;color:#6b7280;font-size:13px}
.pending .body{opacity:.7}.failed .state{color:#b91c1c}
.link{text-decoration:underline}
.sources{margin:4px 4px 0;font-size:12.5px;color:#4b5563}.sources p{margin:0;font-weight:600}.sources ol{margin:2px 0 0;padding-left:18px}
.dots::after{content:"…"}
.typing{padding:4px 16px;font-size:13px;font-style:italic;color:#6b7280}
.error{display:flex;margin:6px 12px 0;padding:8px 10px;border-radius:8px;background:#fee2e2;color:#991b1b;font-size:13px}

.actions{display:flex;flex-wrap:wrap;gap:8px;padding:8px 12px 0}
.chip{padding:5px 12px;border:1px solid #d1d5db;border-radius:999px;background:#fff;color:#374151;font-size:13px}
.compose{display:flex;align-items:flex-end;gap:8px;padding:10px 12px 12px}
textarea{flex:1;min-height:42px;max-height:120px;padding:9px 12px;border:1px solid #d1d5db;border-radius:10px;font:inherit;font-size:16px;resize:none;color:inherit;background:#fff}
.send{width:44px;height:42px;border-radius:10px}.primary{padding:8px 16px;border-radius:8px}
.closed{padding:12px;border-top:1px solid #e5e7eb;text-align:center;font-size:14px}.closed p{margin:0 0 4px}
.closed textarea{width:100%;min-height:60px;margin:6px 0}
.stars{display:inline-flex}.stars input{position:absolute;opacity:0}
.stars label{padding:0 2px;color:#d1d5db;font-size:30px;line-height:1;cursor:pointer}.stars .on{color:#f59e0b}
.stars input:focus-visible+label{outline:3px solid #2563eb}
@media (max-width:480px){.root{right:12px;bottom:12px}.panel{position:fixed;inset:0;width:auto;max-width:none;height:auto;max-height:none;border-radius:0}.open .launcher{display:none}}`;

	let host, ui, sess = null, status = null, starting = null, rated = false;
	let lastId = null, lastSeq = 0, ws = null, tries = 0, wsTimer = 0, watchdog = 0;
	const seen = new Map(); // message id -> element
	const drafts = new Map(); // message id -> element of a bot reply being streamed
	const broken = new Set(); // drafts whose deltas were missed while disconnected
	const pending = new Map(); // clientMessageId -> element of a visitor message not yet stored

	async function boot() {
		for (let n = 0; ; n++) {
			try { cfg = (await gql(Q_CONFIG, { k: KEY })).widgetConfig; break; } catch (e) {
				if (!retryable(e) || n >= 5) return console.warn('Concierge widget:', describe(e), e.message);
				await sleep(backoff(n + 1));
			}
		}
		// Not another identity's session (after a logout, another user).
		if ((load().ext || '') !== String(SET.externalId || '')) save({ token: null, ext: null });
		build();
		if (load().open) setOpen(true, false);
	}

	function build() {
		host = h('concierge-widget', { 'data-company-key': KEY });
		const brand = /^#[0-9a-f]{6}$/i.test(cfg.brandColor) ? cfg.brandColor : '#4F46E5';
		const n = parseInt(brand.slice(1), 16);
		host.style.setProperty('--brand', brand);
		host.style.setProperty('--on-brand', 0.299 * (n >> 16) + 0.587 * ((n >> 8) & 255) + 0.114 * (n & 255) > 158 ? '#111827' : '#fff');
		const root = host.attachShadow({ mode: 'open' });
		if (root.adoptedStyleSheets && window.CSSStyleSheet && CSSStyleSheet.prototype.replaceSync) {
			const sheet = new CSSStyleSheet();
			sheet.replaceSync(CSS);
			root.adoptedStyleSheets = [sheet];
		} else root.append(h('style', {}, CSS));

		const u = (ui = {});
		const logo = safeURL(cfg.logoURL);
		u.sub = h('p', {}, cfg.assistantName);
		const header = h('header', {}, logo && h('img', { src: logo, alt: '' }),
			div('', h('h2', { id: 'cw-title' }, cfg.companyName), u.sub),
			button('x', closeIcon(), () => setOpen(false), { 'aria-label': 'Close chat' }));
		const note = !cfg.open && h('div', { class: 'note', role: 'note' },
			cfg.awayMessage || "Our team is away right now. Our assistant can still help, and we'll get back to you.");
		u.log = h('div', { class: 'log', role: 'log', 'aria-live': 'polite', 'aria-label': 'Messages', tabindex: '0' });
		if (cfg.greeting) u.log.append(bubble({ senderType: 'BOT', body: cfg.greeting }));
		u.typing = h('div', { class: 'typing', 'aria-live': 'polite', hidden: true });
		u.errText = h('span');
		u.error = h('div', { class: 'error', role: 'alert', hidden: true }, u.errText, button('', '×', clearError, { 'aria-label': 'Dismiss' }));
		u.human = button('chip human', 'Talk to a person', requestHuman);
		u.end = button('chip end', 'End conversation', endConversation, { hidden: true });
		u.input = h('textarea', { rows: '1', maxlength: MAX, 'aria-label': 'Message', placeholder: 'Type your message…', enterkeyhint: 'send',
			onkeydown: (ev) => { if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); submit(); } }, oninput: onInput });
		u.send = h('button', { class: 'send', type: 'submit', 'aria-label': 'Send message' }, '➤');
		u.compose = h('form', { class: 'compose', onsubmit: (ev) => { ev.preventDefault(); submit(); } }, u.input, u.send);
		u.panel = h('section', { class: 'panel', id: 'cw-panel', role: 'dialog', 'aria-labelledby': 'cw-title', hidden: true },
			header, note, u.log, u.typing, u.error, div('actions', u.human, u.end), u.compose, buildClosed());
		u.launcher = button('launcher', chatIcon(), () => setOpen(u.panel.hidden),
			{ 'aria-controls': 'cw-panel', 'aria-expanded': 'false', 'aria-label': 'Open chat with ' + cfg.companyName });
		u.root = h('div', { class: 'root', onkeydown: (ev) => { if (ev.key === 'Escape' && !u.panel.hidden) setOpen(false); } }, u.panel, u.launcher);
		root.append(u.root);
		if (cfg.requireIdentity && !(SET.externalId && SET.userHash)) {
			u.input.disabled = u.send.disabled = u.human.disabled = true;
			u.input.placeholder = 'Please sign in to chat with us.';
		}
		document.body.append(host);
		host.dataset.state = 'ready';
	}

	function buildClosed() {
		const stars = h('div', { class: 'stars', role: 'radiogroup', 'aria-label': 'Rating, 1 to 5 stars' });
		for (let i = 1; i <= 5; i++) {
			stars.append(h('input', { type: 'radio', name: 'cw-rating', id: 'cw-r' + i, value: i }),
				h('label', { for: 'cw-r' + i, 'aria-label': i + (i > 1 ? ' stars' : ' star') }, '★'));
		}
		const rating = () => Number((stars.querySelector(':checked') || {}).value || 0);
		stars.onchange = () => stars.querySelectorAll('label').forEach((l, i) => l.classList.toggle('on', i < rating()));
		const comment = h('textarea', { 'aria-label': 'Comment (optional)', placeholder: 'Anything to add? (optional)', maxlength: 2000 });
		const again = button('chip', 'Start a new conversation', startOver);
		ui.thanks = h('p', { class: 'thanks', hidden: true }, 'Thanks for your feedback!');
		ui.rating = h('form', { class: 'rating', 'aria-label': 'Rate this conversation', onsubmit: async (ev) => {
			ev.preventDefault();
			if (!rating()) return showError('Choose 1 to 5 stars.');
			try {
				await gql(M_RATE, { c: sess.conversationId, r: rating(), m: comment.value.trim() || null }, sess.token);
			} catch (e) { if (e.code !== 'CONFLICT') return showError(describe(e)); }
			rated = ui.rating.hidden = true;
			ui.thanks.hidden = false;
			clearError();
			again.focus();
		} }, h('p', {}, 'How was this conversation?'), stars, comment, div('', h('button', { class: 'primary', type: 'submit' }, 'Send rating')));
		return (ui.closed = h('div', { class: 'closed', hidden: true }, h('p', {}, 'This conversation has ended.'), ui.rating, ui.thanks, again));
	}

	function setOpen(open, focus = true) {
		ui.panel.hidden = !open;
		ui.root.classList.toggle('open', open);
		ui.launcher.setAttribute('aria-expanded', open);
		ui.launcher.setAttribute('aria-label', (open ? 'Close chat with ' : 'Open chat with ') + cfg.companyName);
		ui.launcher.replaceChildren(open ? closeIcon() : chatIcon());
		save({ open });
		if (open) {
			// A returning visitor sees their conversation; new ones start on the first message.
			if (!sess && (load().token || SET.externalId) && !ui.input.disabled) ensureSession().catch(fail);
			if (focus && !ui.input.disabled) ui.input.focus();
			scrollDown(true);
		} else if (focus) ui.launcher.focus();
	}
	const fail = (e) => showError(describe(e));

	// Starts or resumes the visitor's conversation (once), then follows it.
	function ensureSession() {
		if (sess) return Promise.resolve(sess);
		return (starting = starting || (async () => {
			const input = { companyKey: KEY, visitorToken: load().token || null };
			for (const k of ['name', 'email', 'externalId', 'userHash']) if (SET[k]) input[k] = String(SET[k]);
			const r = (await gql(M_START, { in: input })).startConversation;
			const id = r.conversation.id;
			if (host.dataset.conversationId !== id) resetLog();
			sess = { token: r.token, conversationId: id };
			save({ token: r.token, ext: SET.externalId || '' });
			host.dataset.conversationId = id;
			rated = false;
			setStatus(r.conversation.status);
			subscribe();
			return sess;
		})().finally(() => { starting = null; }));
	}

	function startOver() {
		closeSocket();
		sess = status = null;
		ui.rating.reset();
		ui.rating.hidden = false;
		ui.thanks.hidden = true;
		ui.rating.querySelectorAll('label').forEach((l) => l.classList.remove('on'));
		ensureSession().then(() => ui.input.focus(), fail);
	}

	function resetLog() {
		for (const el of [...seen.values(), ...drafts.values()]) el.remove();
		seen.clear(); drafts.clear(); broken.clear();
		lastId = null; lastSeq = 0;
		setTyping();
	}

	function setStatus(s) {
		if (!s) return;
		const focused = host.shadowRoot.activeElement; // hiding it may blur it at once
		const closed = (status = host.dataset.status = s) === 'CLOSED';
		ui.human.hidden = s !== 'BOT';
		ui.end.hidden = ui.compose.hidden = closed;
		ui.closed.hidden = !closed;
		ui.rating.hidden = rated;
		ui.sub.textContent = { WAITING_HUMAN: 'Waiting for a person to join…', HUMAN: "You're chatting with our team",
			CLOSED: 'Conversation ended' }[s] || cfg.assistantName;
		if (s !== 'BOT') setTyping();
		if (closed) stopTyping(true);
		if (focused && focused.closest('[hidden]')) (closed ? ui.closed.querySelector(rated ? '.closed > button' : 'input') : ui.input).focus();
	}

	// ---- conversationEvents over graphql-transport-ws ----
	function closeSocket() {
		clearTimeout(wsTimer);
		clearTimeout(watchdog);
		if (ws) { const s = ws; ws = null; s.close(1000); }
	}

	function subscribe() {
		closeSocket();
		if (!sess) return;
		const my = sess;
		let sock;
		try { sock = new WebSocket(API.replace(/^http/, 'ws'), 'graphql-transport-ws'); } catch (_) { return reconnect(); }
		ws = sock;
		const out = (m) => sock.readyState === 1 && sock.send(JSON.stringify(m));
		const alive = () => { // the server pings every 20 s
			clearTimeout(watchdog);
			watchdog = setTimeout(() => ws === sock && sock.close(4000), 65000);
		};
		sock.onopen = () => { alive(); out({ type: 'connection_init', payload: { authorization: 'Bearer ' + my.token } }); };
		sock.onmessage = (ev) => {
			if (ws !== sock) return;
			alive();
			let m;
			try { m = JSON.parse(ev.data); } catch (_) { return; }
			const p = m.payload || {};
			switch (m.type) {
				case 'connection_ack':
					tries = 0;
					// Replays the messages after the last one shown, then live.
					out({ id: '1', type: 'subscribe', payload: { query: S_EVENTS, variables: { c: my.conversationId, a: lastId } } });
					host.dataset.connected = 'true';
					break;
				case 'ping': out({ type: 'pong' }); break;
				case 'next': if (p.data) onEvent(p.data.conversationEvents); else onSubError(p.errors); break;
				case 'error': onSubError(p); break;
				case 'complete': reconnect(); break;
			}
		};
		sock.onclose = (ev) => {
			if (ws !== sock) return;
			ws = null;
			host.dataset.connected = 'false';
			if (ev.code === 4401 || ev.code === 4403) renew(); // the token is no longer good
			else reconnect();
		};
	}

	function reconnect() {
		if (ws) { const s = ws; ws = null; s.close(1000); }
		clearTimeout(wsTimer);
		// Deltas sent meanwhile are lost: drafts wait for their final message.
		for (const [id, el] of drafts) { broken.add(id); el.body.textContent = ''; el.body.classList.add('dots'); }
		wsTimer = setTimeout(subscribe, backoff(tries++));
	}

	function renew() {
		closeSocket();
		sess = null;
		wsTimer = setTimeout(() => ensureSession().catch((e) => { fail(e); if (retryable(e)) renew(); }), backoff(tries++));
	}

	function onSubError(errors) {
		const code = ((errors && errors[0]) || {}).extensions;
		switch (code && code.code) {
			case 'BAD_USER_INPUT': resetLog(); return reconnect(); // unknown `after`
			case 'UNAUTHENTICATED': case 'FORBIDDEN': case 'NOT_FOUND': return renew();
			default: return reconnect();
		}
	}

	function onEvent(e) {
		if (!e) return;
		switch (e.kind) {
			case 'MESSAGE_CREATED': case 'MESSAGE_COMPLETED': if (e.message) addMessage(e.message); break;
			case 'MESSAGE_DELTA': onDelta(e.messageID, e.delta || ''); break;
			case 'TYPING': onTyping(e.typing); break;
			case 'STATUS_CHANGED': for (const id of [...drafts.keys()]) removeDraft(id);
		}
		if (e.conversation && e.conversation.status !== status) setStatus(e.conversation.status);
	}

	// ---- messages ----
	function bubble(m) {
		const kind = { VISITOR: 'visitor', SYSTEM: 'system' }[m.senderType] || 'staff';
		const body = div('body', linkify(m.body || ''));
		const el = div('msg ' + kind,
			kind === 'staff' && div('who', m.senderName || (m.senderType === 'BOT' ? cfg.assistantName : 'Agent')), body);
		el.body = body;
		const cits = m.citations || [];
		if (cits.length) { // one per source, numbered as the answer's [n] markers
			el.append(h('div', { class: 'sources', role: 'group', 'aria-label': 'Sources' }, h('p', {}, 'Sources'),
				h('ol', {}, ...cits.map((c) => h('li', { title: c.snippet || null },
					safeURL(c.url) ? link(safeURL(c.url), c.title) : c.title, c.page ? `, p. ${c.page}` : null)))));
		}
		return el;
	}

	function addMessage(m) {
		removeDraft(m.id);
		const p = m.senderType === 'VISITOR' && pending.get(m.clientMessageID);
		if (p) { p.remove(); pending.delete(m.clientMessageID); }
		if (seen.has(m.id)) return;
		const stick = nearBottom();
		const el = bubble(m);
		el.seq = m.seq;
		el.dataset.id = m.id;
		seen.set(m.id, el);
		const before = [...ui.log.children].find((c) => c.seq > m.seq || c.classList.contains('pending') || c.draft);
		ui.log.insertBefore(el, before || null);
		if (m.seq > lastSeq) { lastSeq = m.seq; lastId = m.id; }
		if (m.senderType === 'BOT' || m.senderType === 'AGENT') setTyping();
		scrollDown(stick || m.senderType === 'VISITOR');
	}

	function onDelta(id, delta) {
		if (!id || seen.has(id)) return;
		const stick = nearBottom();
		let d = drafts.get(id);
		if (!d) {
			drafts.set(id, (d = bubble({ senderType: 'BOT', body: '' })));
			d.draft = true;
			ui.log.append(d);
			setTyping();
		}
		if (!broken.has(id)) d.body.textContent += delta;
		scrollDown(stick);
	}
	function removeDraft(id) {
		const d = drafts.get(id);
		if (d) { d.remove(); drafts.delete(id); broken.delete(id); }
	}

	let typingTimer = 0;
	function setTyping(text, ms) {
		clearTimeout(typingTimer);
		ui.typing.textContent = text || '';
		ui.typing.hidden = !text;
		if (text) typingTimer = setTimeout(setTyping, ms || 10000);
	}
	function onTyping(t) {
		if (t && t.senderType !== 'VISITOR') setTyping(t.typing && `${t.name || (t.senderType === 'BOT' ? cfg.assistantName : 'Agent')} is typing…`);
	}

	const nearBottom = () => ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 80;
	const scrollDown = (force) => { if (force) ui.log.scrollTop = ui.log.scrollHeight; };

	let errTimer = 0;
	function showError(text, ms) {
		ui.errText.textContent = text;
		ui.error.hidden = false;
		clearTimeout(errTimer);
		if (ms) errTimer = setTimeout(clearError, ms);
	}
	function clearError() { ui.error.hidden = true; }

	// ---- the visitor's actions ----
	let typingSent = false, typingIdle = 0;
	function grow() {
		ui.input.style.height = 'auto';
		ui.input.style.height = Math.min(ui.input.scrollHeight + 2, 120) + 'px';
	}
	function onInput() {
		grow();
		if (!sess || status === 'CLOSED') return;
		if (!typingSent && ui.input.value.trim()) { typingSent = true; sendTyping(true); }
		clearTimeout(typingIdle);
		typingIdle = setTimeout(stopTyping, 3000);
	}
	function stopTyping(quiet) {
		clearTimeout(typingIdle);
		if (!typingSent) return;
		typingSent = false;
		if (quiet !== true) sendTyping(false);
	}
	const sendTyping = (on) => sess && gql(M_TYPING, { c: sess.conversationId, t: on }, sess.token).catch(() => {});

	function submit() {
		const text = ui.input.value.trim();
		if (!text || ui.input.disabled || status === 'CLOSED') return;
		if (text.length > MAX) return showError(`Your message is too long (at most ${MAX} characters).`);
		clearError();
		stopTyping();
		const cid = uuid();
		const el = bubble({ senderType: 'VISITOR', body: text });
		el.classList.add('pending');
		el.append((el.state = h('div', { class: 'state' })));
		pending.set(cid, el);
		ui.log.append(el);
		scrollDown(true);
		ui.input.value = '';
		grow();
		deliver(cid, text, el);
	}

	// Retries use the same clientMessageId: the server stores the message once.
	async function deliver(cid, text, el) {
		el.classList.remove('failed');
		el.state.textContent = 'Sending…';
		for (let n = 0; ; n++) {
			try {
				const s = await ensureSession();
				const m = (await gql(M_SEND, { c: s.conversationId, b: text, k: cid }, s.token)).sendMessage;
				addMessage(m);
				if (status === 'BOT' && !drafts.size && lastSeq <= m.seq) setTyping(`${cfg.assistantName} is typing…`, 30000);
				return;
			} catch (e) {
				if (retryable(e) && n < 4) { await sleep(backoff(n + 1)); continue; }
				if (e.code === 'UNAUTHENTICATED' && sess && !n) { closeSocket(); sess = null; continue; } // expired: start again
				if (retryable(e)) {
					el.classList.add('failed');
					el.state.replaceChildren('Not sent. ', button('link', 'Retry', () => deliver(cid, text, el)));
					return fail(e);
				}
				// Refused: back into the composer.
				el.remove();
				pending.delete(cid);
				ui.input.value = ui.input.value ? text + '\n' + ui.input.value : text;
				grow();
				showError(describe(e), e.code === 'RATE_LIMITED' && e.ext.retryAfterSeconds * 1000);
				return;
			}
		}
	}

	let asking = false; // not disabling the button: that would drop the focus
	async function requestHuman() {
		if (asking) return;
		asking = true;
		clearError();
		try {
			const s = await ensureSession();
			setStatus((await gql(M_HUMAN, { c: s.conversationId }, s.token)).requestHuman.status);
		} catch (e) { fail(e); }
		asking = false;
	}

	async function endConversation() {
		clearError();
		try { setStatus((await gql(M_CLOSE, { c: sess.conversationId }, sess.token)).closeConversation.status); } catch (e) { fail(e); }
	}

	addEventListener('online', () => { if (sess && !ws) subscribe(); });

	if (document.body) boot();
	else document.addEventListener('DOMContentLoaded', boot, { once: true });
})();
