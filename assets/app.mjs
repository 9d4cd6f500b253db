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
