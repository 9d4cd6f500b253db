// Security keys and passkeys (WebAuthn). The page carries the server's options as JSON in a
// data attribute (the CSP allows no inline script); the browser makes or uses a credential; an
// ordinary form then posts the result with its CSRF token, so the server answers with a page.
// Its button starts disabled and is enabled here, once the form listens: a press before this
// script has run would post an empty credential.

const toBytes = (text) => {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/')
  const padded = base64 + '==='.slice((base64.length + 3) % 4)
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0))
}

const toText = (buffer) => {
  let binary = ''
  for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

const creationOptions = (o) => ({
  ...o,
  challenge: toBytes(o.challenge),
  user: { ...o.user, id: toBytes(o.user.id) },
  excludeCredentials: (o.excludeCredentials || []).map((c) => ({ ...c, id: toBytes(c.id) }))
})

const requestOptions = (o) => ({
  ...o,
  challenge: toBytes(o.challenge),
  allowCredentials: (o.allowCredentials || []).map((c) => ({ ...c, id: toBytes(c.id) }))
})

// What py_webauthn reads: the credential's ids and type, and its response, as base64url.
const answer = (credential, response) => ({
  id: credential.id,
  rawId: toText(credential.rawId),
  type: credential.type,
  authenticatorAttachment: credential.authenticatorAttachment || undefined,
  clientExtensionResults: credential.getClientExtensionResults(),
  response
})

const created = (credential) => answer(credential, {
    clientDataJSON: toText(credential.response.clientDataJSON),
    attestationObject: toText(credential.response.attestationObject),
    transports: credential.response.getTransports ? credential.response.getTransports() : []
})

const asserted = (credential) => answer(credential, {
    clientDataJSON: toText(credential.response.clientDataJSON),
    authenticatorData: toText(credential.response.authenticatorData),
    signature: toText(credential.response.signature),
    userHandle: credential.response.userHandle ? toText(credential.response.userHandle) : undefined
})

for (const form of document.querySelectorAll('form[data-webauthn]')) {
  const error = form.querySelector('[data-webauthn-error]')
  const field = form.querySelector('input[name=credential]')
  const say = (message) => {
    error.textContent = message
    error.hidden = false
  }
  if (!window.PublicKeyCredential) {
    say('This browser cannot use security keys. Use an authenticator app or a code instead.')
    continue
  }
  form.addEventListener('submit', async (event) => {
    if (field.value) return // the credential is in: post the form
    event.preventDefault()
    const options = JSON.parse(form.dataset.options)
    try {
      if (form.dataset.webauthn === 'create') {
        const credential = await navigator.credentials.create({ publicKey: creationOptions(options) })
        field.value = JSON.stringify(created(credential))
      } else {
        const credential = await navigator.credentials.get({ publicKey: requestOptions(options) })
        field.value = JSON.stringify(asserted(credential))
      }
    } catch (problem) {
      say(`The key was not used (${problem.name}). Try again, or use another way.`)
      return
    }
    form.requestSubmit()
  })
  const button = form.querySelector('[data-webauthn-button]')
  button.disabled = false
  button.removeAttribute('aria-disabled')
}
