"""Letters for casework after a mail-out (issue 16): a meeting moved, a meeting cancelled.

Sent only to people already invited (their invitation went); the wording follows the invitation's
(templatebuild.letters), and the meeting is read from the review as it is now.
"""

from __future__ import annotations

from collections.abc import Callable

from docx.document import Document as DocxDocument

from templatebuild.blocks import CHILD_NAME, by_role, para, reader_sign_off, reader_title, tag
from templatebuild.layout import address_block, new_document

NEW_WHEN = ("{{ review.scheduled_at|uk_day_date }} at {{ review.scheduled_at|uk_time }}"
            ", {{ review.venue|venue_for(recipient.role) }}")
OLD_WHEN = ("{{ previous.scheduled_at|uk_day_date }} at {{ previous.scheduled_at|uk_time }}")
CONTACT = ("If you have any questions, please contact me{% if iro.phone %} on {{ iro.phone }}"
           "{% endif %} or at {{ iro.email }}.")


def change_of_arrangements() -> DocxDocument:
    doc = new_document()
    address_block(doc)
    reader_title(doc, "Your review meeting has changed",
                 "Change of arrangements: review for " + CHILD_NAME)
    para(doc, "{{ recipient.salutation }},")
    by_role(doc, {
        "child": [
            "Your review meeting that was going to be on " + OLD_WHEN + " has moved. It will "
            "now be on " + NEW_WHEN + ".",
            "You can still take part in the way that suits you best. If the new time is hard "
            "for you, tell me or your social worker.",
        ],
        "else": [
            "I wrote to invite you to the {{ review.ordinal }} review of the care plan for " +
            CHILD_NAME + " on " + OLD_WHEN + ". The arrangements have changed: the "
            "review will now be held on " + NEW_WHEN + ".",
            "Please let me know if you can no longer attend, so that your views can still be "
            "heard.",
        ],
    })
    tag(doc, "if previous.venue_changed")
    para(doc, "{{ review.venue }}", bold_lead="Please note the new venue: ")
    tag(doc, "endif")
    para(doc, "Everything else in my earlier letter still applies. If you have already sent "
         "your form back, thank you: you do not need to send it again.")
    para(doc, CONTACT)
    reader_sign_off(doc)
    return doc


def review_cancelled() -> DocxDocument:
    doc = new_document()
    address_block(doc)
    reader_title(doc, "Your review meeting is cancelled",
                 "Review meeting cancelled: " + CHILD_NAME)
    para(doc, "{{ recipient.salutation }},")
    by_role(doc, {
        "child": [
            "Your review meeting on {{ review.scheduled_at|uk_day_date }} at "
            "{{ review.scheduled_at|uk_time }} will not take place. We will write to you again "
            "about your next review.",
        ],
        "else": [
            "The review of the care plan for " + CHILD_NAME + " that I invited you to on "
            "{{ review.scheduled_at|uk_day_date }} at {{ review.scheduled_at|uk_time }} has "
            "been cancelled and will not take place.",
            "You do not need to send back any form you were sent for it. If a new meeting is "
            "arranged, we will write to you again.",
        ],
    })
    para(doc, CONTACT)
    reader_sign_off(doc)
    return doc


def builders() -> dict[str, Callable[[], DocxDocument]]:
    return {"change_of_arrangements": change_of_arrangements,
            "review_cancelled": review_cancelled}
