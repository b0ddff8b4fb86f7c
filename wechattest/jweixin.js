// wechattest's stand-in for WeChat's jweixin-1.6.0.js, served by the
// emulator at the path of WeChat's own script. It is not Tencent's code: it
// implements what a page needs to run offline in any browser, with WeChat's
// semantics as WECHAT.md §12 states them:
//
//   wx.config({appId, timestamp, nonceStr, signature, jsApiList, openTagList, debug})
//   wx.ready(fn), wx.error(fn)          fn({errMsg: "config:invalid signature"})
//   wx.updateAppMessageShareData({title, desc, link, imgUrl, success, fail, complete})
//   wx.getLocation({type, success, fail, complete})   a fixed place in Beijing
//
// and for WeCom pages (WECOM.md §10), where wx.config's appId is the
// CorpID (beta: true is accepted and not required):
//
//   wx.agentConfig({corpid, agentid, timestamp, nonceStr, signature, jsApiList, success, fail})
//                                       fail({errMsg: "agentConfig:invalid signature"})
//   wx.invoke(name, args, fn)           fn({err_msg: name + ":ok"}), for an API in
//                                       the jsApiList of a verified wx.agentConfig or
//                                       wx.config; else name + ":fail_no permission".
//                                       getContext also gives {entry: "normal"}.
//
// The signature is checked by the emulator against the tickets it issued
// and the URL this script finds the page at, never the one the page
// claims: location.href without its fragment, or on an iOS User-Agent
// (iPhone, iPad, iPod) the URL the page was entered with, as WeChat's iOS
// client does. A wx.config with the CorpID needs the corp's ticket, a
// wx.agentConfig the ticket of the app it names: the corp ticket does not
// sign it. wx.agentConfig does not wait for wx.config, as WeCom 3.0.24
// and later; ww.register (WeCom's newer SDK) is not emulated.
(function () {
  "use strict";
  var verifyURL = new URL(document.currentScript.src).origin + "/open/js/verify";
  var ios = /iPhone|iPad|iPod/.test(navigator.userAgent);
  var entryURL = withoutFragment(location.href);
  var state = "new"; // "new", "verifying", "ready", "failed"
  var failure = null;
  var allowed = {};
  var generation = 0;
  var agentAllowed = {};
  var agentGeneration = 0;
  var readyFns = [];
  var errorFns = [];

  function withoutFragment(href) {
    var i = href.indexOf("#");
    return i < 0 ? href : href.slice(0, i);
  }

  function later(fn, arg) {
    setTimeout(function () { fn(arg); }, 0);
  }

  // verify has the emulator check a config signed for the page's URL,
  // and calls done with its answer.
  function verify(api, fields, done) {
    fields.url = ios ? entryURL : withoutFragment(location.href);
    fetch(verifyURL, { method: "POST", headers: { "Content-Type": "text/plain" }, body: JSON.stringify(fields) })
      .then(function (r) { return r.json(); })
      .catch(function () { return { errMsg: api + ":fail, the emulator is unreachable" }; })
      .then(done);
  }

  function config(c) {
    c = c || {};
    var gen = ++generation;
    state = "verifying";
    failure = null;
    allowed = {};
    verify("config", { appId: c.appId, timestamp: c.timestamp, nonceStr: c.nonceStr, signature: c.signature }, function (res) {
      if (gen !== generation) {
        return; // a newer wx.config replaced this one
      }
      if (res.errMsg === "config:ok") {
        state = "ready";
        (c.jsApiList || []).forEach(function (name) { allowed[name] = true; });
        readyFns.slice().forEach(function (fn) { later(fn); });
        return;
      }
      state = "failed";
      failure = { errMsg: res.errMsg };
      if (c.debug) {
        console.warn("wx.config: " + res.errMsg);
      }
      errorFns.slice().forEach(function (fn) { later(fn, failure); });
    });
  }

  function agentConfig(c) {
    c = c || {};
    var gen = ++agentGeneration;
    agentAllowed = {};
    verify("agentConfig", {
      api: "agentConfig", corpid: c.corpid, agentid: c.agentid,
      timestamp: c.timestamp, nonceStr: c.nonceStr, signature: c.signature
    }, function (res) {
      if (gen !== agentGeneration) {
        return; // a newer wx.agentConfig replaced this one
      }
      var ok = res.errMsg === "agentConfig:ok";
      if (ok) {
        (c.jsApiList || []).forEach(function (name) { agentAllowed[name] = true; });
      }
      var fn = ok ? c.success : c.fail;
      if (fn) {
        later(fn, { errMsg: res.errMsg });
      }
    });
  }

  // invoke answers a WeCom API call made the old way, wx.invoke, with
  // err_msg as WeCom's client does.
  function invoke(name, args, fn) {
    var res;
    if (agentAllowed[name] || (state === "ready" && allowed[name])) {
      res = name === "getContext" ? { entry: "normal" } : {};
      res.err_msg = name + ":ok";
    } else {
      res = { err_msg: name + ":fail_no permission" };
    }
    if (fn) {
      later(fn, res);
    }
  }

  function ready(fn) {
    readyFns.push(fn);
    if (state === "ready") {
      later(fn);
    }
  }

  function error(fn) {
    errorFns.push(fn);
    if (state === "failed") {
      later(fn, failure);
    }
  }

  // call answers an API call as WeChat does: only after a successful
  // wx.config, and only for an API in its jsApiList.
  function call(name, opts, result) {
    opts = opts || {};
    var res;
    if (state !== "ready") {
      res = { errMsg: name + ":the permission value is offline verifying" };
    } else if (!allowed[name]) {
      res = { errMsg: name + ":permission denied" };
    } else {
      res = result();
      res.errMsg = name + ":ok";
    }
    later(function () {
      if (/:ok$/.test(res.errMsg)) {
        if (opts.success) { opts.success(res); }
      } else if (opts.fail) {
        opts.fail(res);
      }
      if (opts.complete) { opts.complete(res); }
    });
  }

  window.wx = window.jWeixin = {
    config: config,
    agentConfig: agentConfig,
    invoke: invoke,
    ready: ready,
    error: error,
    updateAppMessageShareData: function (opts) {
      call("updateAppMessageShareData", opts, function () { return {}; });
    },
    getLocation: function (opts) {
      call("getLocation", opts, function () {
        return { latitude: 39.908692, longitude: 116.397477, speed: 0, accuracy: 30 };
      });
    }
  };
})();
