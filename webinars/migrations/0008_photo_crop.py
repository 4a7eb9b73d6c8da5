import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("webinars", "0006_photo_event_actions"),
    ]

    operations = [
        migrations.AddField(
            model_name="registrant",
            name="photo_focus_x",
            field=models.FloatField(
                default=0.5,
                validators=[
                    django.core.validators.MinValueValidator(0),
                    django.core.validators.MaxValueValidator(1),
                ],
                verbose_name="crop centre, across",
            ),
        ),
        migrations.AddField(
            model_name="registrant",
            name="photo_focus_y",
            field=models.FloatField(
                default=0.5,
                validators=[
                    django.core.validators.MinValueValidator(0),
                    django.core.validators.MaxValueValidator(1),
                ],
                verbose_name="crop centre, down",
            ),
        ),
    ]
