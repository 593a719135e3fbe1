"""The stakeholder survey (issue 20 §1; annual report 2013-14 §9.4 and Appendix A).

``questions`` reads config/survey.yaml; ``recipients`` picks who is asked (pure); ``store`` keeps
surveys, one-time links and anonymous answers; ``sending`` plans the questionnaire and reminder
dispatches and composes their emails; ``answers`` takes an answer from the web page or from
paper; ``report`` counts them for the annual report's Appendix A.
"""
