// The page script of package jssdk (github.com/wechatauth/wechatauth/jssdk).
// Include it after jweixin:
//
//   <script src="https://res.wx.qq.com/open/js/jweixin-1.6.0.js"></script>
//   <script src="/wechat/jssdk.js" data-config="/wechat/jssdk"
//           data-apis="updateAppMessageShareData,getLocation"></script>
//
// It asks the server (data-config: where the Signer's Handler is mounted)
// for the wx.config of the URL WeChat checks: the URL the page was entered
// with on iOS, the current one elsewhere, without the fragment. It signs
// again after a history.pushState route change. On "invalid signature" it
// reports the refused config once, so that the server drops its cached
// ticket, and configures again. Events on document tell the page:
//   jssdk:ready        detail.url: the URL signed; wx's APIs work now
//   jssdk:error        detail.errMsg, detail.status for a refused request
//   jssdk:unavailable  detail.reason "snapshot": a snapshot-page guest,
//                      who cannot use the JS-SDK; no wx.config was made
//
// On WeCom's pages (the server's Signer has Options.CorpID) it does the
// same, and with data-agent-apis="selectExternalContact,…" (or an empty
// data-agent-apis for the server's Options.AgentAPIs) it also calls
// wx.agentConfig once wx.config has succeeded, reports an "invalid
// signature" of it once, so that the server renews the app's ticket, and
// tells the page by two more events:
//   jssdk:agent-ready  detail.url: wx.agentConfig succeeded; the agent-level
//                      APIs work now
//   jssdk:agent-error  detail.errMsg
(function () {
  "use strict";
  var me = document.currentScript;
  var endpoint = me.getAttribute("data-config") || me.src.replace(/\.js(\?.*)?$/, "");
  var apis = list(me.getAttribute("data-apis"));
  var tags = list(me.getAttribute("data-tags"));
  var agent = me.hasAttribute("data-agent-apis");
  var agentApis = list(me.getAttribute("data-agent-apis"));
  var ios = /iPhone|iPad|iPod/.test(navigator.userAgent);
  var entryURL = rememberEntry();
  var generation = 0;
  var signed = null; // {url, config} of the latest wx.config
  var reported = false;
  var agentReported = false;
  var pending = false;

  function list(s) {
    return (s || "").split(",").map(function (x) { return x.trim(); }).filter(Boolean);
  }

  function withoutFragment(href) {
    var i = href.indexOf("#");
    return i < 0 ? href : href.slice(0, i);
  }

  // rememberEntry returns the URL this document was entered with: the URL
  // of its navigation, which a pushState made before this script ran does
  // not change, kept in sessionStorage so that the script loaded again in
  // the same document finds the first one.
  function rememberEntry() {
    var key = "wechatauth.jssdk.entry";
    var nav = performance.getEntriesByType ? performance.getEntriesByType("navigation")[0] : null;
    var here = withoutFragment((nav && nav.name) || location.href);
    try {
      var saved = JSON.parse(sessionStorage.getItem(key) || "null");
      if (saved && saved.doc === performance.timeOrigin) {
        return saved.url;
      }
      sessionStorage.setItem(key, JSON.stringify({ doc: performance.timeOrigin, url: here }));
    } catch (e) {
      // sessionStorage refused (private mode): the navigation's URL will do.
    }
    return here;
  }

  function emit(name, detail) {
    document.dispatchEvent(new CustomEvent("jssdk:" + name, { detail: detail }));
  }

  function urlToSign() {
    return ios ? entryURL : withoutFragment(location.href);
  }

  function configure() {
    if (!window.wx || !wx.config) {
      emit("error", { errMsg: "jssdk: jweixin is not loaded; include it before this script" });
      return;
    }
    var gen = ++generation;
    var url = urlToSign();
    var q = "url=" + encodeURIComponent(url);
    if (apis.length) { q += "&apis=" + encodeURIComponent(apis.join(",")); }
    if (tags.length) { q += "&tags=" + encodeURIComponent(tags.join(",")); }
    if (agent) { q += "&agent=1"; }
    if (agentApis.length) { q += "&agentApis=" + encodeURIComponent(agentApis.join(",")); }
    fetch(endpoint + (endpoint.indexOf("?") < 0 ? "?" : "&") + q, {
      credentials: "same-origin", headers: { Accept: "application/json" }
    }).then(function (r) {
      return r.json().then(function (body) { return { status: r.status, body: body }; });
    }).then(function (res) {
      if (gen !== generation) {
        return; // a newer route asked meanwhile
      }
      if (res.status === 403 && res.body.snapshot) {
        emit("unavailable", { reason: "snapshot", message: res.body.error });
        return;
      }
      if (res.status !== 200) {
        emit("error", { status: res.status, errMsg: res.body.error });
        return;
      }
      // WeCom's answer is {config, agentConfig}; the Official Account's is
      // the config itself.
      signed = { url: url, config: res.body.config || res.body, agent: res.body.agentConfig || null };
      wx.config(signed.config);
    }).catch(function () {
      if (gen === generation) {
        emit("error", { errMsg: "jssdk: the config request failed" });
      }
    });
  }

  // agentConfigure calls WeCom's wx.agentConfig with the agentConfig
  // signed beside the wx.config that has just succeeded.
  function agentConfigure(s) {
    var gen = generation;
    if (!wx.agentConfig) {
      emit("agent-error", { errMsg: "jssdk: wx.agentConfig is missing: WeCom's client or jweixin is too old" });
      return;
    }
    var a = s.agent;
    wx.agentConfig({
      corpid: a.corpid, agentid: a.agentid, timestamp: a.timestamp, nonceStr: a.nonceStr,
      signature: a.signature, jsApiList: a.jsApiList,
      success: function () {
        if (gen === generation) { emit("agent-ready", { url: s.url }); }
      },
      fail: function (res) {
        if (gen !== generation) {
          return; // a newer route asked meanwhile
        }
        var msg = (res && res.errMsg) || "";
        if (/invalid signature/.test(msg) && !agentReported) {
          report(true);
          return;
        }
        emit("agent-error", { errMsg: msg });
      }
    });
  }

  // report tells the server, once per page for each config, that WeChat
  // refused the latest config (WeCom's wx.agentConfig when agent is true);
  // then configures again.
  function report(agent) {
    var c = agent ? signed.agent : signed.config;
    var body = { url: signed.url, timestamp: c.timestamp, nonceStr: c.nonceStr, signature: c.signature };
    if (agent) {
      agentReported = true;
      body.agent = true;
    } else {
      reported = true;
    }
    fetch(endpoint, {
      method: "POST", credentials: "same-origin", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    }).catch(function () {}).then(configure);
  }

  // routeChanged signs again once the route has settled.
  function routeChanged() {
    if (pending) { return; }
    pending = true;
    setTimeout(function () { pending = false; configure(); }, 0);
  }

  if (me.getAttribute("data-snapshot") === "true") {
    emit("unavailable", { reason: "snapshot", message: "jssdk: a snapshot-page visitor cannot use the JS-SDK" });
    return;
  }
  if (window.wx && wx.ready) {
    wx.ready(function () {
      emit("ready", { url: signed ? signed.url : urlToSign() });
      if (signed && signed.agent) { agentConfigure(signed); }
    });
    wx.error(function (res) {
      var msg = (res && res.errMsg) || "";
      if (/invalid signature/.test(msg) && !reported && signed) {
        report(false);
        return;
      }
      emit("error", { errMsg: msg });
    });
  }
  ["pushState", "replaceState"].forEach(function (name) {
    var original = history[name];
    history[name] = function () {
      var result = original.apply(this, arguments);
      routeChanged();
      return result;
    };
  });
  window.addEventListener("popstate", routeChanged);
  window.wechatauthJSSDK = { configure: configure, entryURL: entryURL };
  configure();
})();
