// Progressive enhancement only: every page works without JavaScript.
import { initAll } from './govuk-frontend.min.js'

document.body.classList.add('js-enabled', 'govuk-frontend-supported')
initAll()

// After "Add another child/adult", move focus to the new entry's first field.
const main = document.getElementById('main-content')
const focus = main && main.dataset.focus
if (focus) {
  const first = document.querySelector(`#${CSS.escape(focus)} input:not([type=hidden]), #${CSS.escape(focus)} select`)
  if (first) {
    first.focus()
    first.scrollIntoView({ block: 'center' })
  }
}

// "Add another child/adult" in place: copy the page's blank entry, number it, and move focus
// into it. At the limit, or without JavaScript, the button posts the form and the server adds it.
for (const button of document.querySelectorAll('[data-add-person]')) {
  button.addEventListener('click', (event) => {
    const kind = button.dataset.addPerson
    const template = document.getElementById(`add-${kind}-template`)
    const count = document.querySelectorAll(`form .app-person[data-kind="${kind}"]`).length
    if (!template || count >= Number(button.dataset.max)) return
    event.preventDefault()
    const html = template.innerHTML.replaceAll('__N__', String(count)).replaceAll('__NUM__', String(count + 1))
    button.insertAdjacentHTML('beforebegin', html)
    const added = button.previousElementSibling
    initAll({ scope: added })
    const status = document.getElementById('household-status')
    if (status) status.textContent = `${kind === 'child' ? 'Child' : 'Adult'} ${count + 1} added`
    const first = added.querySelector('input:not([type=hidden]), select, textarea')
    if (first) first.focus()
  })
}

// A link to a folded section ("Record a call" -> #chase) opens it and moves focus into it.
const target = window.location.hash && document.getElementById(window.location.hash.slice(1))
if (target && target.tagName === 'DETAILS') {
  target.open = true
  const summary = target.querySelector('summary')
  if (summary) summary.focus()
}

// The outcome summary's print view asks the browser to print once it has loaded.
if (document.querySelector('[data-print="now"]')) {
  window.addEventListener('load', () => window.print())
}

// Security keys: only on the pages that offer one.
if (document.querySelector('form[data-webauthn]')) {
  import('./webauthn.mjs')
}
