"""Synthetic job-search emails written for MOCKI: the classifier's training set and the benchmark's mailbox.

Every phrase below was written for this project. An email is put together from a label's
subject and core sentences, optional greeting, filler (company blurb, equal-opportunity or
no-reply notes), sign-off and signature, with invented companies, roles and people, so the
classifier meets many styles: terse ATS notices, chatty recruiters, formal letters.

    python -m mocki.tracker.data.generate --count 120 --seed 7 > src/mocki/tracker/data/train.jsonl

Each line: {"subject", "from", "date", "body", "label", "company", "position"}.
"""

# ruff: noqa: E501  (regular expressions and phrase lists read best one per line)

from __future__ import annotations

import argparse
import json
import random
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

LABELS = ("applied", "rejected", "interview", "assessment", "offer", "recruiter_outreach", "other")

COMPANIES = [
    "Northwind Labs", "Brightpath", "Kestrel Systems", "Lumora", "Quillfeather", "Tidewater Analytics",
    "Corvid Health", "Pinegrove Software", "Helix Freight", "Marigold Bank", "Orbitly", "Stonebridge AI",
    "Fernway", "Cobalt Ridge", "Zephyr Mobility", "Bluehaven Insurance", "Arclight Games", "Juniper Grid",
    "Vantage Point Media", "Redwood Robotics", "Saltmarsh", "Nimbus Retail", "Oakline Energy", "Prism Ledger",
    "Glasswing", "Tessellate", "Harbor & Finch", "Meridian Biotech", "Copperleaf", "Wavecrest", "Lanternfish",
    "Driftwood Studios", "Amberlight", "Foxglove Security", "Silverline Logistics", "Mosaic Learning",
    "Evergreen Foods", "Halcyon Travel", "Brambleworks", "Skyloft", "Inkwell", "Granite Peak Capital",
    "Waypoint Maps", "Sunbeam Solar", "Palisade Data", "Cinder", "Willow Health", "Acorn Payments", "Tandem",
    "Bellwether Labs", "Ridgeback", "Opaline", "Kitewire", "Starling Civic", "Hollowtree", "Peregrine Cloud",
]  # fmt: skip
POSITIONS = [
    "Software Engineer", "Senior Backend Engineer", "Frontend Developer", "Data Analyst", "Data Scientist",
    "Machine Learning Engineer", "Product Manager", "Site Reliability Engineer", "DevOps Engineer",
    "iOS Developer", "Android Engineer", "QA Engineer", "Security Analyst", "Solutions Architect",
    "Technical Writer", "UX Designer", "Business Analyst", "Full Stack Developer", "Platform Engineer",
    "Software Engineering Intern", "Data Engineer", "Engineering Manager", "Cloud Engineer",
    "Embedded Software Engineer", "Research Scientist", "Customer Success Engineer", "Staff Engineer",
    "Junior Python Developer", "Analytics Engineer", "Product Designer", "Marketing Analyst",
    "Financial Analyst", "Operations Associate", "Sales Engineer", "Support Engineer",
]  # fmt: skip
FIRST = [
    "Alex", "Sam", "Priya", "Jordan", "Mei", "Diego", "Hannah", "Omar", "Chloe", "Ravi", "Lena", "Marcus",
    "Aisha", "Tom", "Yuki", "Nora", "Felix", "Ines", "Kwame", "Sofia", "Ben", "Leila", "Oscar", "Grace",
]  # fmt: skip
LAST = ["Nguyen", "Patel", "Garcia", "Kim", "Okafor", "Schmidt", "Rossi", "Cohen", "Silva", "Tanaka", "Byrne"]
ATS = [
    ("myworkday.com", "Workday - {company}"),
    ("greenhouse.io", "{company} Recruiting"),
    ("lever.co", "{company}"),
    ("smartrecruiters.com", "{company} Hiring Team"),
    ("ashbyhq.com", "{company} Talent"),
    ("icims.com", "{company} Careers"),
]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
TIMES = ["9:00 AM", "10:30 AM", "11:00 AM", "1:00 PM", "2:30 PM", "3:00 PM", "4:15 PM", "14:00", "16:30"]
ZONES = ["PT", "ET", "CET", "GMT", "(Pacific Time)", "EST", ""]

# ---------------------------------------------------------------------------------- phrases

SUBJECTS: dict[str, list[str]] = {
    "applied": [
        "Thank you for applying to {company}", "Application received: {position}",
        "Your application for {position} at {company}", "We received your application",
        "{company} | Application confirmation", "Thanks for your interest in {company}!",
        "Application submitted – {position}", "Your application was sent to {company}",
        "Confirmation: {position} (Req {req})", "{company} - We've got your application",
        "Thanks for applying, {name}", "Application Update",
    ],
    "rejected": [
        "Your application to {company}", "Update on your {position} application",
        "{company} application status", "Regarding your application for {position}",
        "Thank you for your interest in {company}", "Application update from {company}",
        "{position} at {company}", "Your candidacy", "Follow-up on your application",
        "An update on your application", "Thank you from {company}",
    ],
    "interview": [
        "Interview invitation – {position}", "Next steps with {company}", "Let's schedule a call",
        "{company}: phone screen for {position}", "Invitation: Interview with {company}",
        "Interview confirmation for {weekday}", "Scheduling your interview", "Your interview at {company}",
        "{position} – technical interview", "Availability for a chat?", "Onsite interview details",
        "Next round: {position}",
    ],
    "assessment": [
        "{company} coding assessment", "Next step: online assessment for {position}",
        "Your HackerRank challenge from {company}", "Take-home exercise – {position}",
        "Complete your assessment", "Action required: skills assessment", "{company} technical challenge",
        "Invitation to complete a CodeSignal test", "Your video interview with {company}",
        "Online assessment invitation",
    ],
    "offer": [
        "Offer of employment – {position}", "Your offer from {company}", "Congratulations, {name}!",
        "{company} offer letter", "We'd love to have you join {company}", "Job offer: {position}",
        "Welcome to {company}!", "Your offer details",
    ],
    "recruiter_outreach": [
        "Opportunity at {company}", "Quick question", "{position} role – interested?",
        "Exciting {position} opportunity", "Your background caught my eye", "Are you open to new roles?",
        "Hiring: {position} ({city})", "Connecting about a role at {company}", "Reaching out", "{name}, quick chat?",
    ],
    "other": [
        "New jobs matching your search", "Your weekly job alert", "Verify your email address",
        "Reset your password", "How was your candidate experience?", "Join us at our virtual career fair",
        "Complete your candidate profile", "Your account has been created", "Welcome to our talent community",
        "We've updated our privacy policy", "Recommended jobs for you", "Your order has shipped",
        "Team lunch on Friday", "Newsletter: what's new at {company}", "Webinar invitation",
        "Your application has been withdrawn", "Reminder: update your profile",
    ],
}  # fmt: skip

CORE: dict[str, list[str]] = {
    "applied": [
        "If you are not selected for this position, we will keep your resume on file and consider you for future opportunities that match your profile.",
        "Unfortunately, we are unable to respond to every applicant personally, but rest assured that your application will be reviewed.",
        "While you wait, here are similar jobs you might like: {jobs}.",
        "Thank you for applying for {position}! We wish you the best of luck, and we'll be in touch if your profile matches our needs.",
        "Your application is important to us. Should your qualifications match our requirements, a recruiter will contact you; otherwise we may not be in touch individually.",
        "Thank you for your interest in a career at {company}. This note confirms that we have your application for {position}. Please do not reply to this message.",
        "Hi {name}, thanks for applying to {company}! Your application has been received and we will review it right away. If your application seems like a good fit for the position we will contact you soon.",
        "Thank you for applying to {company}. We have received your application for the {position} position (R{req}). Our talent acquisition team will review your qualifications against the requirements of the role. You can track the status of your application in your Candidate Home account.",
        "Please note that only shortlisted candidates will be contacted.",
        "If your skills and experience align with the role, we will reach out to discuss next steps. If not, we will keep your details on file for future openings.",
        "We're excited that you're interested in joining us. Our team is reviewing applications now, and you'll hear from us either way.",
        "Your application was sent to {company}\n{position}\n{company} · {city}\nApplied on {date}",
        "Application submitted\n{position}\n{company} - {city}\nThe employer may reach out to you directly. Good luck!",
        "We've received your application and it's now in our queue. Applications are reviewed on a rolling basis.",
        "This is to let you know that your application for {position} has reached us. We typically respond within 10 business days.",
        "thanks for throwing your hat in the ring for {position}! we read every application and will be in touch soon.",
        "Thank you for your application. We will review it and come back to you as soon as possible. Unfortunately, due to the volume of applications, we cannot provide feedback to every applicant.",
        "You have successfully applied for {position} at {company}. Keep an eye on your inbox for updates.",
        "We'd like to confirm your application for our {position} opening. A recruiter will review your profile, and if there is a match we'll reach out to set up a first conversation.",
        "Thank you for applying for the {position} position at {company}. We have received your application and our team will review it shortly.",
        "We're writing to confirm that your application for {position} was successfully submitted.",
        "Thanks for your interest in {company}! Your application for the {position} role is now with our recruiting team.",
        "This email confirms we received your application. If your experience matches what we're looking for, a member of our team will be in touch.",
        "Your application has been received and is under review. Due to the large number of applications, we may not be able to respond to everyone individually.",
        "We appreciate you taking the time to apply to {company}. Our hiring team is reviewing applications and will contact you if your qualifications are a match for the role.",
        "Hi! Just a quick note to say we got your application for {position}. We'll get back to you within two weeks.",
        "Your application was sent to {company}. You can track its status in your account.",
        "Thank you for submitting your resume for {position} (Req {req}). You can check the status of your application at any time by signing in to the careers site.",
        "We have received your application for the position of {position}. We will carefully review your background and be in touch about next steps if there is a fit.",
        "Thanks for applying! We review every application by hand, so it may take a little while to hear back.",
        "Great news, your application to {company} is complete. Our recruiters will look at your profile in the coming days.",
        "Thank you for your application to the {position} opening. Please note that unfortunately we are unable to give individual feedback at this stage of the process.",
        "Your application for {position} has been successfully received. No further action is required from you at this time.",
        "This is an automated message to confirm receipt of your application to {company}.",
        "We got it! Your application for {position} is in, and someone from the team will reach out if we'd like to move forward.",
    ],
    "rejected": [
        "Thank you for taking the time to apply for the {position} role. We've carefully reviewed your application and, unfortunately, we won't be moving forward at this time.",
        "We have now completed our review of applications and regret to let you know that your application was unsuccessful on this occasion.",
        "Your application was not successful this time.",
        "The hiring team has decided to go in a different direction for this role.",
        "We've decided to focus on candidates whose experience is more aligned with the requirements of this position.",
        "We are unable to move forward with your application as we are looking for someone with more experience in {skill}.",
        "At this time, we have decided to pursue other candidates.",
        "Although we will not be moving forward with your candidacy, we'd like to thank you for your interest in {company}.",
        "This position is no longer available, and we have closed the search.",
        "The status of your application for {position} has changed to: Not selected.",
        "We will not be able to offer you a place on our internship programme this year.",
        "we really enjoyed chatting, but we've decided not to continue with your application. thanks again and good luck!",
        "Thank you for applying. We received many qualified applicants and have decided to move ahead with another candidate who we feel is a better match for this particular position.",
        "Thank you for your interest in the {position} role at {company}. Unfortunately, we have decided to move forward with other candidates whose experience more closely matches our needs.",
        "After careful consideration, we regret to inform you that we will not be moving forward with your application.",
        "We appreciate the time you invested in applying. While your background is impressive, we have chosen to pursue other candidates for this position.",
        "Unfortunately, the {position} position has been filled.",
        "We wanted to let you know that you were not selected to move forward in the process for {position}.",
        "Thank you for applying to {company}. We received a large number of strong applications and, after reviewing yours, we've decided not to proceed with your candidacy at this time.",
        "I'm sorry to share that the team has decided not to move ahead after your interviews. It was a difficult decision.",
        "While we were impressed with your qualifications, we have decided to pursue other applicants for this role.",
        "We will keep your resume on file and may contact you if a suitable opening comes up in the future.",
        "Please don't be discouraged; we encourage you to apply for future openings that match your skills.",
        "Your application for {position} is no longer under consideration.",
        "We have reviewed your application and unfortunately we are unable to offer you a position at this time.",
        "The role has been put on hold, so we are closing all applications, including yours.",
        "Thank you for the time you spent interviewing with us. Unfortunately we won't be extending an offer.",
        "We regret that we cannot offer you an interview for this position.",
        "After reviewing your profile, we don't think it's the right match for this role right now.",
    ],
    "interview": [
        "We'd like to schedule a 45-minute virtual interview. Please reply with your availability for the week of {date}.",
        "Your phone interview with {interviewer} is scheduled for {weekday} at {time} {zone}. {interviewer} will call you on the number in your application.",
        "Calendar invitation: {company} interview - {position}\nWhen: {weekday}, {date} {time} {zone}\nWhere: Google Meet https://meet.google.com/{req}-abc",
        "I'm {recruiter} from the {company} recruiting team. Thanks for applying to {position}! I'd like to set up a brief call to learn more about your background.",
        "We enjoyed speaking with you and would like to invite you to the next stage: a two-hour virtual onsite with the team.",
        "Please confirm whether the proposed time works for you, or suggest another slot.",
        "Your application stood out to us, and we would love to chat. Do any of these times work: {weekday} {time} or {weekday2} {time}?",
        "Good news! The hiring manager would like to meet you. Our coordinator will send a calendar invite shortly.",
        "We were impressed by your application and would like to invite you to an interview for the {position} position.",
        "Could you share your availability for a 30-minute phone screen with our recruiter next week?",
        "Please use this link to pick a time that works for you: {calendly}",
        "Your interview is confirmed for {weekday}, {date} at {time} {zone}. You'll meet with {interviewer}, our hiring manager.",
        "The next step is a technical interview with two of our engineers. It will last about an hour and will be held over Zoom: {zoom}",
        "I'd love to set up a call to discuss your application for {position}. Are you free on {weekday} or {weekday2} afternoon?",
        "Congratulations on moving to the next round! We'd like to schedule an onsite interview at our office.",
        "Following your application, we would like to invite you to a video interview on {date} at {time} {zone}.",
        "The hiring team reviewed your resume and would like to speak with you. Please reply with a few times that suit you.",
        "This is a reminder of your interview with {company} tomorrow at {time}. Join here: {zoom}",
        "Thank you for your time on the phone today. We'd like to invite you to the final round, a panel interview with the team.",
        "You have been shortlisted for an interview. The conversation will focus on your experience and a system design discussion.",
        "Please book a slot for your first-round interview by replying to this email or using our scheduling page.",
        "We'd like to move you forward to a conversation with the hiring manager, {interviewer}.",
    ],
    "assessment": [
        "The next step in our hiring process is an online assessment. You will receive a separate email from our testing partner with your personal link.",
        "Please complete the assessment at your earliest convenience; the link expires in 7 days.",
        "Your assessment is still incomplete. Please finish it before {date} so we can continue with your application.",
        "As part of the application process, we ask every candidate to complete a short online test of numerical and verbal reasoning.",
        "Please record a short video answering three questions about your experience. It should take about 20 minutes.",
        "Thanks for your application to {position}! Before we move on, we'd like you to solve a small programming task and share a link to your repository.",
        "Your invitation to the {company} coding challenge is ready. Start whenever you like, but once you begin the 90-minute timer cannot be paused.",
        "As the next step in our process, we'd like you to complete an online coding assessment: {assessment}",
        "Please complete the HackerRank challenge within {days} days. The test takes about 90 minutes: {assessment}",
        "We invite you to a take-home exercise. You will have 72 hours to submit your solution after opening it.",
        "Your CodeSignal General Coding Assessment link is below. Please complete it by {date}.",
        "Before we schedule interviews, all candidates complete a short skills assessment. Access it here: {assessment}",
        "Please record your answers to the one-way video interview on HireVue before {date}: {assessment}",
        "The assessment consists of two programming problems and a short questionnaire. It must be completed in one sitting.",
        "Reminder: your online assessment for {position} expires on {date}. Don't forget to complete it.",
        "You've been invited to complete a Codility test for the {position} role. The deadline is {date}.",
        "To move forward, please complete our technical challenge. You can use any language you like.",
        "Please finish the personality and aptitude test within the next {days} days.",
        "We'd like you to complete a case study and send back your written analysis by {weekday}.",
    ],
    "offer": [
        "I'm excited to share that we'd like to offer you the {position} role! I'll send the formal offer package today.",
        "Following your interviews, we are pleased to make you a formal offer. Please let us know your decision by {date}.",
        "Attached is your employment contract. Once you've signed, we'll get your onboarding started.",
        "Great news: the team has approved your offer. Call me when you have a minute so I can walk you through the details.",
        "We are delighted to offer you the position of {position} at {company}!",
        "I'm pleased to extend an offer for the {position} role. Your starting salary will be {salary} per year, with a start date of {date}.",
        "Please find your offer letter attached. Kindly review, sign and return it by {date}.",
        "Congratulations! The team loved meeting you and we'd like to make you an offer.",
        "Your compensation package includes a base salary of {salary}, equity and benefits. Let us know if you have any questions before accepting.",
        "We're thrilled to welcome you aboard. Please accept the offer in the portal by {date} to confirm.",
        "On behalf of everyone at {company}, I'm happy to confirm our verbal offer in writing.",
        "This offer is contingent on a background check and proof of your right to work.",
    ],
    "recruiter_outreach": [
        "I hope this message finds you well. I'm {recruiter}, a technical recruiter with {company}. Are you currently exploring new roles?",
        "I saw your GitHub projects and was really impressed. We're hiring a {position} and I think you'd be a great match.",
        "I'm a consultant at TalentBridge partnering with {company}, who are looking for a {position} in {city}.",
        "Hope you're well! Not sure if you're looking, but we have a {position} opening that fits your background really well. Happy to share the job description.",
        "I'm hiring for several engineering roles on my team and your profile looks great. Would love to connect.",
        "I came across your profile and thought you could be a great fit for a {position} role at {company}.",
        "I'm a recruiter at {company} and we're growing our engineering team. Would you be open to a quick chat?",
        "Are you open to new opportunities? I'm working with a client in {city} who is hiring a {position}.",
        "Your background in {skill} caught my eye. We have an exciting opportunity I'd love to tell you about.",
        "I'm reaching out because we're hiring a {position} and your experience looks like a strong match.",
        "Would you be interested in hearing more? The role is fully remote and the salary range is {salary}.",
        "I hope you don't mind me reaching out. I specialise in placing engineers with fast-growing startups.",
        "If you're not looking right now, no worries. Feel free to pass this along to anyone who might be interested.",
        "Let me know if you'd be up for a 15-minute call this week to see if it's a fit.",
        "My client, a well-funded fintech, is building a new team and I immediately thought of you.",
    ],
    "other": [
        "How did your interview go? Rate your interview experience with {company} in our short survey.",
        "Applications are now open for our {year} graduate programme. Apply now and join us!",
        "Reminder: a job you saved, {position} at {company}, is closing soon.",
        "Thanks for signing up for job alerts. We'll email you when new roles match your preferences.",
        "Your receipt from {company}: total $24.99. Thank you for your purchase.",
        "Here are the notes from today's meeting. Action items are listed at the bottom.",
        "A former colleague asked you for a referral. Log in to respond.",
        "Join our hackathon next month. Prizes, food and great people!",
        "Your application status has been updated. Log in to your candidate account to view it.",
        "{name} viewed your profile. See who else is looking.",
        "Your subscription renews on {date}.",
        "Here are new jobs that match your saved search for {position}: {jobs}.",
        "Please verify your email address by clicking the link below to finish setting up your account.",
        "We received a request to reset your password. If you didn't make this request, you can ignore this email.",
        "We'd love to hear about your experience as a candidate. The survey takes less than five minutes.",
        "Join us for our virtual career fair on {date}. Meet recruiters from dozens of companies.",
        "Your candidate profile is 60% complete. Adding your work history helps recruiters find you.",
        "Welcome to the {company} talent community! We'll send you updates about roles and events that might interest you.",
        "We've updated our privacy policy to explain how we use your personal data.",
        "Your order #{req} has shipped and should arrive in 3-5 business days.",
        "Reminder: team lunch is on Friday at noon. Please add your dietary preferences to the sheet.",
        "In this month's newsletter: our new office, an interview with our CTO and tips for your job search.",
        "Register now for our webinar on how to write a resume that stands out.",
        "As requested, your application for {position} has been withdrawn. You can apply again at any time.",
        "Your account has been created. Use the link below to sign in to the careers portal.",
        "You have a new message from a connection. Log in to read it.",
        "Recommended for you: {jobs}. Apply with one click.",
        "Thanks for attending our info session yesterday. The slides are attached.",
        "Your monthly statement is ready to view.",
    ],
}  # fmt: skip

GREETINGS = [
    "Hi {name},",
    "Dear {name},",
    "Hello {name},",
    "Hello,",
    "Hi there,",
    "Dear Candidate,",
    "{name},",
    "",
]
CLOSINGS = [
    "Best regards,",
    "Kind regards,",
    "Thanks,",
    "Sincerely,",
    "Cheers,",
    "Best,",
    "All the best,",
    "",
]
SIGNATURES = [
    "{recruiter}\nTalent Acquisition, {company}",
    "The {company} Recruiting Team",
    "{company} Careers",
    "{recruiter}\n{company}",
    "{recruiter} | Recruiter",
    "The Hiring Team at {company}",
    "{company} Talent Team",
    "",
]
FILLERS = [
    "{company} is proud to be an equal opportunity employer. We do not discriminate on the basis of race, religion, colour, national origin, gender, sexual orientation, age, marital status, veteran status or disability.",
    "By applying, you agreed to our candidate privacy notice, which explains how we process your personal data.",
    "You can review the status of your application at any time by logging in to your candidate account.",
    "{company}, 100 Market Street, Suite 300, San Francisco, CA 94105",
    "This email was sent by {company} via our applicant tracking system.",
    "Please add this address to your contacts so our emails don't land in your spam folder.",
    "Want to learn more about us? Visit our careers page and read stories from our team.",
    "Confidentiality notice: this message may contain confidential information intended only for the addressee.",
    "At {company}, we're on a mission to make {skill} simple for everyone.",
    "{company} is an equal opportunity employer and values diversity at all levels.",
    "Please do not reply to this email; this mailbox is not monitored.",
    "Follow us on LinkedIn to stay up to date with life at {company}.",
    "If you have any questions, feel free to reply to this message.",
    "This message was sent to {email}. Unsubscribe | Privacy",
    "We know job searching takes effort, and we truly appreciate your interest in joining our team.",
    "Thank you again for your time.",
]
FILLER_AFTER_CORE = {
    "rejected": [
        "We wish you the best of luck in your job search.",
        "Best of luck in your future endeavours.",
    ],
    "applied": [
        "In the meantime, feel free to explore more about our culture on our careers page.",
        "We wish you the best of luck in your job search.",
        "Good luck!",
    ],
    "interview": [
        "Looking forward to speaking with you!",
        "Please let us know if you need any accommodations.",
    ],
    "assessment": ["Good luck!", "If you run into technical issues, contact support@{domain}."],
    "offer": ["We can't wait to have you on the team.", "Welcome aboard!"],
    "recruiter_outreach": ["Looking forward to hearing from you.", "Hope to connect soon."],
    "other": ["You are receiving this because you signed up for updates.", ""],
}
# What HTML mail leaves behind once turned into text: banners, navigation, footers.
NOISE_TOP = [
    "View this email in your browser",
    "[{company} logo]",
    "Careers | Teams | Locations | Benefits",
    "Job ID: {req} | Location: {city}",
    "Having trouble viewing this email? Click here.",
]
NOISE_BOTTOM = [
    "Facebook | Twitter | LinkedIn | Instagram",
    "© {year} {company}. All rights reserved.",
    "Manage your email preferences | Unsubscribe",
    "Sent from my iPhone",
    "Powered by our applicant tracking system",
    "{company} | {city} | https://www.{domain}/careers",
]
SKILLS = ["distributed systems", "Python", "payments", "React", "machine learning", "data pipelines", "cloud"]
CITIES = ["Berlin", "Austin", "London", "Toronto", "Singapore", "Remote", "New York", "Lisbon"]


@dataclass(frozen=True)
class Synthetic:
    label: str
    subject: str
    sender: str
    date: datetime
    body: str
    company: str
    position: str

    def record(self) -> dict[str, str | None]:
        return {
            "subject": self.subject,
            "from": self.sender,
            "date": self.date.strftime("%Y-%m-%d %H:%M:%S"),
            "body": self.body,
            "label": self.label,
            "company": self.company,
            "position": self.position,
        }

    def rfc822(self, message_id: str | None = None) -> bytes:
        msg = EmailMessage()
        msg["From"] = self.sender or "unknown@example.invalid"
        msg["To"] = "candidate@example.com"
        msg["Subject"] = self.subject
        msg["Date"] = format_datetime(self.date)
        msg["Message-ID"] = message_id or make_msgid(domain="mail.example.com")
        msg.set_content(self.body)
        return bytes(msg)


def _domain(company: str) -> str:
    return "".join(ch for ch in company.lower() if ch.isalnum()) + ".com"


def _sender(rng: random.Random, label: str, company: str, recruiter: str) -> str:
    roll = rng.random()
    if label in {"recruiter_outreach", "interview", "offer"} and roll < 0.5:
        first = recruiter.split()[0].lower()
        return f"{recruiter} <{first}@{_domain(company)}>"
    if label == "other" and roll < 0.4:
        return rng.choice(
            ["JobBoard Alerts <alerts@jobboard.example>", "Careers Portal <no-reply@portal.example>"]
        )
    if roll < 0.55:
        host, name = rng.choice(ATS)
        return f"{name.format(company=company)} <no-reply@{host}>"
    if roll < 0.8:
        return f"{company} <careers@{_domain(company)}>"
    return ""


def _fill(text: str, slots: dict[str, str]) -> str:
    return text.format(**slots)


def make_email(rng: random.Random, label: str, start: datetime) -> Synthetic:
    company, position = rng.choice(COMPANIES), rng.choice(POSITIONS)
    name = rng.choice(FIRST)
    recruiter = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    date = start + timedelta(minutes=rng.randrange(0, 60 * 24 * 300))
    when = date + timedelta(days=rng.randrange(2, 15))
    weekdays = rng.sample(WEEKDAYS, 2)
    slug = "".join(ch for ch in company.lower() if ch.isalnum())
    slots = {
        "company": company, "position": position, "name": name, "recruiter": recruiter,
        "interviewer": f"{rng.choice(FIRST)} {rng.choice(LAST)}", "req": str(rng.randrange(10000, 99999)),
        "date": when.strftime(rng.choice(["%B %d, %Y", "%A, %B %d", "%d %B %Y", "%m/%d/%Y", "%b %d"])),
        "time": rng.choice(TIMES), "zone": rng.choice(ZONES), "weekday": weekdays[0], "weekday2": weekdays[1],
        "days": str(rng.choice([3, 5, 7])), "salary": rng.choice(["$120,000", "€75,000", "$95k", "£60,000"]),
        "city": rng.choice(CITIES), "skill": rng.choice(SKILLS), "email": f"{name.lower()}@example.com",
        "domain": _domain(company), "year": str(date.year + 1),
        "calendly": f"https://calendly.com/{slug}-recruiting/30min",
        "zoom": f"https://{slug}.zoom.us/j/{rng.randrange(10**9, 10**10)}",
        "assessment": rng.choice([
            f"https://www.hackerrank.com/test/{rng.randrange(10**6, 10**7)}/{slug}",
            f"https://app.codesignal.com/invite/{rng.randrange(10**6, 10**7)}",
            f"https://app.codility.com/test/{slug}-{rng.randrange(1000, 9999)}",
            f"https://{slug}.hirevue.com/interview/{rng.randrange(10**5, 10**6)}",
        ]),
        "jobs": ", ".join(f"{rng.choice(POSITIONS)} at {rng.choice(COMPANIES)}" for _ in range(3)),
    }  # fmt: skip
    core = rng.sample(CORE[label], k=min(len(CORE[label]), rng.choice([1, 2, 2, 3])))
    paragraphs = [_fill(s, slots) for s in core]
    after = rng.choice(FILLER_AFTER_CORE[label])
    if after and rng.random() < 0.6:
        paragraphs.append(_fill(after, slots))
    for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
        paragraphs.insert(rng.randrange(0, len(paragraphs) + 1), _fill(rng.choice(FILLERS), slots))
    if rng.random() < 0.35:
        paragraphs.insert(0, _fill(rng.choice(NOISE_TOP), slots))
    greeting = _fill(rng.choice(GREETINGS), slots)
    closing = rng.choice(CLOSINGS)
    signature = _fill(rng.choice(SIGNATURES), slots)
    blocks = [greeting, *paragraphs, "\n".join(x for x in (closing, signature) if x)]
    if rng.random() < 0.35:
        blocks.append(_fill(rng.choice(NOISE_BOTTOM), slots))
    joiner = "\n\n" if rng.random() < 0.8 else "\n"
    body = joiner.join(b for b in blocks if b)
    if rng.random() < 0.1:
        body = body.replace("\n\n", " ")  # some sources flatten the text
    # Some exports keep only the body.
    subject = "" if rng.random() < 0.15 else _fill(rng.choice(SUBJECTS[label]), slots)
    return Synthetic(label, subject, _sender(rng, label, company, recruiter), date, body, company, position)


def generate(count_per_label: int, seed: int) -> list[Synthetic]:
    rng = random.Random(seed)
    start = datetime(2024, 1, 8, 9, 0, tzinfo=UTC)
    emails = [make_email(rng, label, start) for label in LABELS for _ in range(count_per_label)]
    rng.shuffle(emails)
    return emails


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=120, help="emails per label")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    for item in generate(args.count, args.seed):
        sys.stdout.write(json.dumps(item.record(), ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
