// Passkeys (WebAuthn): the browser half of registering and signing in. Progressive
// enhancement: the buttons stay hidden unless this browser can make passkeys, and every page
// still works by password, app code or recovery code without JavaScript.
(function () {
  "use strict";

  function toBytes(b64url) {
    var b64 = b64url.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    var raw = atob(b64), bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes.buffer;
  }

  function toB64url(buffer) {
    var bytes = new Uint8Array(buffer), raw = "";
    for (var i = 0; i < bytes.length; i++) raw += String.fromCharCode(bytes[i]);
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function csrfToken(root) {
    var input = root.querySelector("input[name$='csrf_token']") ||
      document.querySelector("input[name$='csrf_token']");
    return input ? input.value : "";
  }

  function post(url, root, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(root) },
      body: body === undefined ? "{}" : JSON.stringify(body)
    }).then(function (response) {
      if (response.status === 429) {
        throw new Error("Too many tries. Wait a few minutes, then try again.");
      }
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) throw new Error(data.error || "That didn't work. Please try again.");
        return data;
      });
    });
  }

  function creationOptions(options) {
    options.challenge = toBytes(options.challenge);
    options.user.id = toBytes(options.user.id);
    (options.excludeCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return options;
  }

  function requestOptions(options) {
    options.challenge = toBytes(options.challenge);
    (options.allowCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return options;
  }

  function credentialJSON(credential) {
    var r = credential.response, response = { clientDataJSON: toB64url(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toB64url(r.attestationObject);
      if (r.getTransports) response.transports = r.getTransports();
    } else {
      response.authenticatorData = toB64url(r.authenticatorData);
      response.signature = toB64url(r.signature);
      if (r.userHandle) response.userHandle = toB64url(r.userHandle);
    }
    return {
      id: credential.id, rawId: toB64url(credential.rawId), type: credential.type,
      response: response, clientExtensionResults: credential.getClientExtensionResults(),
      authenticatorAttachment: credential.authenticatorAttachment || undefined
    };
  }

  function showError(root, error) {
    var box = root.querySelector("[data-passkey-error]");
    if (!box) return;
    // The person closing the browser's dialog is not an error worth shouting about.
    box.textContent = error && error.name === "NotAllowedError"
      ? "The passkey request was cancelled or timed out. Try again."
      : (error && error.message) || "That didn't work. Please try again.";
    // The error style is added only now: it would show an empty box despite `hidden`.
    box.className = "error";
    box.hidden = false;
  }

  function signIn(root, verifyQuery) {
    var button = root.querySelector("[data-passkey-button]");
    button.disabled = true;
    post(root.dataset.optionsUrl, root).then(function (options) {
      return navigator.credentials.get({ publicKey: requestOptions(options) });
    }).then(function (credential) {
      return post(root.dataset.verifyUrl + verifyQuery(), root, credentialJSON(credential));
    }).then(function (data) {
      window.location.assign(data.redirect || "/");
    }).catch(function (error) {
      showError(root, error);
      button.disabled = false;
    });
  }

  var supported = window.PublicKeyCredential && navigator.credentials &&
    window.isSecureContext;

  document.querySelectorAll("[data-passkey-register]").forEach(function (form) {
    if (!supported) {
      var note = document.querySelector("[data-passkey-unsupported]");
      if (note) note.hidden = false;
      return;
    }
    form.hidden = false;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      button.disabled = true;
      var name = form.querySelector("[name=name]").value;
      post(form.dataset.optionsUrl, form).then(function (options) {
        return navigator.credentials.create({ publicKey: creationOptions(options) });
      }).then(function (credential) {
        return post(form.dataset.verifyUrl + "?name=" + encodeURIComponent(name), form,
          credentialJSON(credential));
      }).then(function (data) {
        window.location.assign(data.redirect);
      }).catch(function (error) {
        showError(form, error);
        button.disabled = false;
      });
    });
  });

  if (!supported) return;

  document.querySelectorAll("[data-passkey-signin]").forEach(function (root) {
    root.hidden = false;
    root.querySelector("[data-passkey-button]").addEventListener("click", function () {
      signIn(root, function () {
        var next = document.querySelector("input[name=next]");
        var remember = document.querySelector("input[name=remember]");
        return "?next=" + encodeURIComponent(next ? next.value : "") +
          "&remember=" + (remember && remember.checked ? "1" : "0");
      });
    });
  });

  document.querySelectorAll("[data-passkey-second-factor]").forEach(function (root) {
    var button = root.querySelector("[data-passkey-button]");
    button.hidden = false;
    button.addEventListener("click", function () {
      signIn(root, function () { return ""; });
    });
  });
})();
