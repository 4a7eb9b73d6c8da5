"""python manage.py seed_demo: a populated app to look at, made without network."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.text import slugify

from webinars import demo, roles, services
from webinars.models import Registrant, Webinar
from webinars.photos import prepare_photo

WEBINARS = [
    ("Uploads that survive a redeploy", 7),
    ("Django on Kubernetes volumes", 21),
    ("From one machine to object storage", -14),
]

# The registrants (by their place below) shown with initials: no photo.
WITHOUT_PHOTO = {5, 12}
# name, company, status, group, public
REGISTRANTS = [
    ("Ada Lovelace", "Analytical Engines", "attended", "marketing", True),
    ("Grace Hopper", "US Navy", "registered", "sales", True),
    ("Katherine Johnson", "NASA", "attended", "support", True),
    ("Alan Turing", "Bletchley Park", "no_show", "sales", False),
    ("Margaret Hamilton", "MIT Instrumentation Lab", "registered", "marketing", True),
    ("Edsger Dijkstra", "Mathematisch Centrum", "cancelled", "support", True),
    ("Barbara Liskov", "MIT", "attended", "sales", True),
    ("Donald Knuth", "Stanford", "registered", "support", False),
    ("Radia Perlman", "DEC", "attended", "marketing", True),
    ("Ken Thompson", "Bell Labs", "cancelled", "sales", False),
    ("Frances Allen", "IBM", "registered", "support", True),
    ("Guido van Rossum", "CWI", "attended", "marketing", False),
    ("Hedy Lamarr", "", "no_show", "sales", True),
    ("Linus Torvalds", "University of Helsinki", "registered", "marketing", True),
    ("Annie Easley", "NASA Lewis", "attended", "support", True),
    ("Tim Berners-Lee", "CERN", "registered", "sales", True),
    ("Adele Goldberg", "Xerox PARC", "cancelled", "marketing", False),
    ("Dennis Ritchie", "Bell Labs", "attended", "support", True),
    ("Sophie Wilson", "Acorn", "registered", "sales", False),
    ("Jean Sammet", "IBM", "attended", "marketing", True),
]

PASSWORD_HINT = "Forgot one? python manage.py changepassword <username>"


class Command(BaseCommand):
    help = (
        "Create demo webinars, about 20 registrants with generated photos, and a "
        "staff user for each role. Running it again adds nothing twice."
    )

    def handle(self, *args, **options):
        # No transaction around it all: each registrant and photo is saved (or
        # not, with its files) on its own, so a run that fails half-way leaves
        # no orphaned file, and the next run completes it.
        users = {role: self.ensure_user(role) for role in roles.ROLES}
        webinars = [self.ensure_webinar(title, days) for title, days in WEBINARS]
        created = sum(
            self.ensure_registrant(webinars[i % len(webinars)], row, users)
            for i, row in enumerate(REGISTRANTS)
        )
        self.stdout.write(
            f"{len(webinars)} webinars and {len(REGISTRANTS)} registrants "
            f"({created} new). {PASSWORD_HINT}"
        )

    def ensure_user(self, role: str):
        username = f"demo-{role}"
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"is_staff": True}
        )
        user.groups.add(Group.objects.get(name=role))
        if created:
            password = secrets.token_urlsafe(12)
            user.set_password(password)
            user.save(update_fields=["password"])
            self.stdout.write(f"Created {username} ({role}) with password: {password}")
        else:
            self.stdout.write(f"{username} ({role}) exists; its password is unchanged.")
        return user

    def ensure_webinar(self, title: str, days_from_now: int) -> Webinar:
        webinar, _ = Webinar.objects.get_or_create(
            title=title,
            defaults={
                "starts_at": timezone.now() + timedelta(days=days_from_now),
                "description": f"A FastOpp demo webinar: {title.lower()}.",
            },
        )
        return webinar

    def ensure_registrant(self, webinar, row, users) -> bool:
        name, company, status, group, public = row
        email = f"{slugify(name)}@example.com"
        registrant, created = Registrant.objects.get_or_create(
            webinar=webinar,
            email=email,
            defaults={
                "name": name,
                "company": company,
                "status": status,
                "group": group,
                "is_public": public,
                "sales_rep": users[roles.SALES] if group == roles.SALES else None,
                "notes": f"Asked for the slides of “{webinar.title}”.",
            },
        )
        # All but a couple have a photo, every third one wide (a group or a
        # scene, where the crop matters); the others show initials.
        number = REGISTRANTS.index(row)
        wants_photo = number not in WITHOUT_PHOTO
        if wants_photo and not (
            registrant.photo and registrant.photo.storage.exists(registrant.photo.name)
        ):
            photo = prepare_photo(portrait(name, wide=number % 3 == 1))
            services.registrant_photo_set(registrant=registrant, photo=photo)
        return created


def portrait(name: str, *, wide: bool) -> SimpleUploadedFile:
    """A photo of the person, drawn offline (webinars.demo), as a camera's JPEG."""
    data = demo.demo_photo(name, wide=wide)
    return SimpleUploadedFile(f"{slugify(name)}.jpg", data, "image/jpeg")
