"""The invitation, reminder and return-instructions letters."""

from __future__ import annotations

from docx.document import Document as DocxDocument

from templatebuild.blocks import (
    BACK_BY,
    CHILD_NAME,
    CODE,
    by_condition,
    by_role,
    if_late,
    keep_last_with_next,
    para,
    reader_sign_off,
    reader_title,
    table,
    tag,
    when,
)
from templatebuild.layout import address_block, new_document

# The child's letter by age (the booklets' bands, rules.yaml consultation.age_bands): a short
# letter with no codes or tables under 8, a young person's letter from 16 (the pathway plan and
# personal adviser; the Children (Leaving Care) Act 2000).
UNDER_8 = "recipient.is_child and child.age < 8"
UNDER_16 = "recipient.is_child and child.age < 16"
YOUNG_PERSON = "recipient.is_child"

# What the child sends back: a young person's is a form, a child's a booklet
THING = "{% if child.age >= 16 %}form{% else %}booklet{% endif %}"
WHEN = ("{{ review.scheduled_at|uk_day_date }} at {{ review.scheduled_at|uk_time }}"
        ", {{ review.venue|venue_for(recipient.role) }}")


def invitation() -> DocxDocument:
    doc = new_document()
    address_block(doc)
    # Title, greeting and wording all change with the recipient's role.
    reader_title(doc, "You are invited to your review",
                 "Invitation to a looked after review for " + CHILD_NAME)
    para(doc, "{{ recipient.salutation }},")
    by_condition(doc, [
        (UNDER_8, [
            "Soon there will be a meeting about you. It is called a review. It is on " + WHEN
            + ".",
            "I am {{ iro.name }}. My job is to listen to you and to check that the grown-ups "
            "are looking after you well.",
        ]),
        (UNDER_16, [
            "Your review meeting is on " + WHEN + ".",
            "A review is a meeting where the people who look after you check that your plan is "
            "still right for you. It is about you, so what you think matters most.",
            "I am {{ iro.name }}, your Independent Reviewing Officer (IRO). My job is to make "
            "sure you are listened to and that the adults do what they said they would do.",
        ]),
        (YOUNG_PERSON, [
            "Your review meeting is on " + WHEN + ".",
            "The review looks at your care plan and your pathway plan: where you live, "
            "education, training or work, health, money, and your plans for when you leave "
            "care. Your personal adviser is invited too.",
            "I am {{ iro.name }}, your Independent Reviewing Officer (IRO). My job is to make "
            "sure your views are heard and that the people working with you do what they said "
            "they would do.",
        ]),
        ("else", [
            "I am writing to invite you to the {{ review.ordinal }} review of the care plan for " +
            CHILD_NAME + ", which will be held on " + WHEN + ".",
            "Every child in care has their care plan reviewed regularly by an Independent "
            "Reviewing Officer (IRO), who is independent of the social work team. The review "
            "looks at how {{ child.given_name }} is doing, checks that the plan meets "
            "{{ child.given_name }}'s needs and agrees what needs to happen next. I will chair "
            "the review.",
        ]),
    ])
    doc.add_paragraph("How you can take part", style="Heading 1")
    by_condition(doc, [
        (UNDER_8, [
            "You can come to your meeting if you want to, or tell me what you think before it.",
            "There is a booklet with this letter. You can draw or write in it. A grown-up can "
            "help you fill it in and send it back.",
        ]),
        (UNDER_16, [
            "You can take part in the way that suits you best. You can come to the meeting, "
            "talk to me on my own before it, bring someone you trust or an advocate to speak "
            "for you, or fill in the booklet that comes with this letter.",
            "If you would like the meeting somewhere else or at a different time, tell me or "
            "your social worker and we will try to change it.",
        ]),
        (YOUNG_PERSON, [
            "You can take part in the way that suits you: come to all or part of the meeting, "
            "chair part of it yourself, meet me on your own before it, bring someone you trust "
            "or an advocate to speak for you, or fill in the form that comes with this letter.",
            "If you would like the meeting somewhere else or at a different time, tell me or "
            "your personal adviser and we will try to change it.",
        ]),
        ("recipient.role == 'parent'", [
            "Your views are important to the review. Please come if you can. If you cannot, "
            "please fill in the enclosed form so that your views are heard, or contact me to "
            "talk before the meeting.",
        ]),
        ("recipient.role == 'carer'", [
            "As {{ child.given_name }}'s carer you know best how things are day to day. Please "
            "fill in the carer's form and bring any health, education and contact information "
            "the review will need.",
        ]),
        ("recipient.role == 'social_worker'", [
            "Please send me your report for the review and the updated care plan at least "
            "three working days before the meeting, share the plan with {{ child.given_name }} "
            "and the family in a way they can understand, and fill in the social worker's form.",
        ]),
        ("recipient.role == 'guardian'", [
            "As {{ child.given_name }}'s children's guardian you are invited while proceedings "
            "continue. If you cannot attend, please send me your views in writing before the "
            "meeting.",
        ]),
        ("else", [
            "You are invited because of your work with {{ child.given_name }}. If you cannot "
            "attend, please send me a short written report before the meeting.",
        ]),
    ])
    tag(doc, "if form.reference_code and not recipient.is_child")
    para(doc, " Please quote the reference " + CODE + " so that we can match it to the review.",
         bold_lead=if_late("Please bring your form to the meeting.",
                           "Please return your form by {{ form.return_by|uk_date }}."))
    tag(doc, "elif form.reference_code and child.age >= 8")
    para(doc, if_late("Please bring your " + THING + " to your meeting.",
                      "Please send your " + THING + " back by {{ form.return_by|uk_date }}.") +
         " {% if child.age >= 16 %}Your personal adviser"
         "{% else %}Your carer or social worker{% endif %} can help you.")
    tag(doc, "endif")
    # no admin table for a young child: the grown-up who helps has the instructions
    tag(doc, "if enclosures and not (" + UNDER_8 + ")")
    doc.add_paragraph("What is enclosed", style="Heading 1")
    table(doc, ["Document", "What to do"], ["{{ e.title }}", "{{ e.action }}"],
          loop="e in enclosures", widths_mm=[75, 95])
    tag(doc, "endif")
    by_role(doc, {
        "child": [
            "{% if child.age < 8 %}If you want to talk to me, a grown-up can help you ring me"
            "{% if iro.phone %} on {{ iro.phone }}{% endif %}.{% else %}"
            "If you have any questions, you can ring me{% if iro.phone %} on {{ iro.phone }}"
            "{% endif %} or email {{ iro.email }}. You can also ask your carer or social worker "
            "to help you get in touch.{% endif %}",
        ],
        "else": [
            "If you have any questions, please contact me{% if iro.phone %} on {{ iro.phone }}"
            "{% endif %} or at {{ iro.email }}. Please let me know if you need an interpreter, "
            "or the meeting or documents in another format.",
        ],
    })
    keep_last_with_next(doc, 5)  # the contact paragraph (if, child, else, adult, endif)
    reader_sign_off(doc)
    return doc


def reminder() -> DocxDocument:
    doc = new_document()
    address_block(doc)
    reader_title(doc, "We would still like to hear from you",
                 "Reminder: please send us your views for the review")
    para(doc, "{{ recipient.salutation }},")
    by_role(doc, {
        "child": [
            "This is a friendly reminder that your review is on " + WHEN + ". We have not had "
            "your " + THING + " back yet. What you think really matters, so please " +
            if_late("bring it to your meeting", "send it back by {{ form.return_by|uk_date }}")
            + ", or tell me what you think in another way.",
        ],
        "else": [
            "The review of the care plan for " + CHILD_NAME + " will be held on " + WHEN
            + ". We have not yet received your consultation form. Please " +
            if_late("bring it to the meeting", "return it by {{ form.return_by|uk_date }}")
            + " so that your views can be considered at the review.",
        ],
    })
    tag(doc, "if " + UNDER_8)
    para(doc, "There is a fresh booklet with this letter. A grown-up can help you fill it in and "
         "send it back.")
    tag(doc, "elif recipient.is_child")  # their own words: no code to quote, no subject line
    para(doc, "There is a fresh copy of your " + THING + " with this letter. You can give it to "
         "your carer or social worker, bring it to your meeting, or post it{% if form.reply_paid "
         "%} in the envelope that came with it (it needs no stamp){% else %} to "
         "{{ form.return_address_lines|join_lines }} (it needs {{ form.postage }}){% endif %}. "
         "{% if child.age >= 16 %}Your personal adviser{% else %}Your carer or social worker"
         "{% endif %} can help you.")
    tag(doc, "else")
    para(doc, "A fresh copy of the form is enclosed. Your reference is " +
         CODE + ". You can email the form to {{ form.return_email }} with the "
         "reference in the subject line, or post it to "
         "{{ form.return_address_lines|join_lines }}{% if form.reply_paid %} (use the envelope "
         "provided; it needs no stamp){% else %}, with {{ form.postage }} on the envelope"
         "{% endif %}.")
    tag(doc, "endif")
    para(doc, "If you have already sent it, thank you, and please ignore this letter.")
    # the child's reminder keeps the invitation's tone and how to reach the IRO
    by_role(doc, {
        "child": [
            "If you want to talk to me, you can ring me{% if iro.phone %} on {{ iro.phone }}"
            "{% endif %} or email {{ iro.email }}, or ask your carer or social worker to help "
            "you get in touch.",
        ],
        "else": [
            "If you have any questions, please contact me{% if iro.phone %} on {{ iro.phone }}"
            "{% endif %} or at {{ iro.email }}.",
        ],
    })
    keep_last_with_next(doc, 5)
    reader_sign_off(doc)
    return doc


def _child_return(doc: DocxDocument) -> None:
    """The child's own instructions: no code to quote, no scanning; a grown-up can help."""
    doc.add_paragraph(f"How to send your {THING} back", style="Title")
    para(doc, BACK_BY, bold_lead="Please send it back by: ")
    para(doc, "You can give it to your carer or social worker, or bring it to your meeting.")
    when(doc, "form.reply_paid", [
        "Or put it in the envelope that came with it and post it. It needs no stamp."])
    when(doc, "not form.reply_paid", [
        "Or post it to us (it needs {{ form.postage }}; ask someone to help you) at:"])
    tag(doc, "for line in form.return_address_lines")
    doc.add_paragraph("{{ line }}", style="Address")
    tag(doc, "endfor")
    doc.add_paragraph()
    # the 4-7 booklet is for drawing on paper: it has no boxes to type in
    para(doc, "{% if child.age >= 8 %}Or you can type into it on a computer and email it to "
         "{{ form.return_email }}, or someone can take a photo of each page and email that."
         "{% else %}Or someone can take a photo of each page and email it to "
         "{{ form.return_email }}.{% endif %}")
    doc.add_paragraph("Who will see it", style="Heading 2")
    para(doc, "Your Independent Reviewing Officer reads it before your review. It is shared with "
         "the people at your review and kept safely on the council's records. If you do not "
         "want something shared, say so in your " + THING + " or tell your Independent "
         "Reviewing Officer. ({{ council.name }} looks after this information: see "
         "{{ council.privacy_notice }}.)", "Small Print")


def return_instructions() -> DocxDocument:
    doc = new_document(reference=CODE, letterhead=False)
    tag(doc, "if recipient.is_child")
    _child_return(doc)
    tag(doc, "else")
    doc.add_paragraph("How to send your form back", style="Title")
    para(doc, "For the review of the care plan for {{ child.initials }} on "
         "{{ review.scheduled_at|uk_day_date }}.")
    para(doc, CODE, bold_lead="Your reference: ")
    para(doc, BACK_BY, bold_lead="Please send it back by: ")
    doc.add_paragraph("By email", style="Heading 1")
    # the form's PDF (and Word copy) has real text boxes and tick boxes (templatebuild.controls)
    para(doc, "You can fill the form in on a computer: open it, type into the boxes and tick "
         "the answers, save it and email it to {{ form.return_email }}. Or write on the printed "
         "form, then take a photo or scan of each page and email those. Put " + CODE + " in the "
         "subject line.")
    doc.add_paragraph("By post", style="Heading 1")
    when(doc, "form.reply_paid", [
        "Use the envelope provided: it is already addressed and needs no stamp. Write " +
        CODE + " on the back and post it. If you no longer have it, post the "
        "form to the address below."])
    when(doc, "not form.reply_paid", [
        "Put the form in an envelope with " + CODE + " written on the back, put "
        "{{ form.postage }} on it and post it to:"])
    tag(doc, "for line in form.return_address_lines")
    doc.add_paragraph("{{ line }}", style="Address")
    tag(doc, "endfor")
    doc.add_paragraph()
    doc.add_paragraph("Giving it to someone", style="Heading 1")
    tag(doc, "if recipient.role == 'social_worker'")
    para(doc, "You can also bring it to the review meeting.")
    tag(doc, "else")
    para(doc, "You can also give it to your social worker or bring it to the review meeting.")
    tag(doc, "endif")
    doc.add_paragraph("Your information", style="Heading 2")
    # UK GDPR Art. 13: who the controller is, why, who sees it, and where the full notice is
    para(doc, "{{ council.name }} is the data controller for what you write. It is used for the "
         "review of the child's care plan (the council's duty under the Children Act 1989), "
         "shared with the people at the review and kept on the council's records for the child. "
         "It is not shared with anyone else unless the law allows it or someone is at risk of "
         "harm. To read how we use your information and your rights, see our privacy notice at "
         "{{ council.privacy_notice }}, or ask us for a copy.", "Small Print")
    tag(doc, "endif")
    return doc
