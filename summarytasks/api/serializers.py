from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from summarytasks import schedule
from summarytasks.models import (
    CustomTaskField,
    FieldType,
    SummaryTask,
    SummaryTaskValue,
    TaskStatus,
)


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "enum": ["last_work_day", "last_day"]},
            {"type": "integer", "minimum": 1, "maximum": 28},
        ]
    }
)
class ImportDayField(serializers.Field):
    """`"last_work_day"`, `"last_day"` or a day 1-28 of the following month (a number)."""

    def to_representation(self, value: Any) -> Any:
        return int(value) if str(value).isdigit() else value

    def to_internal_value(self, data: Any) -> str:
        text = str(data).strip()
        if isinstance(data, bool) or text not in schedule.RULES:
            raise serializers.ValidationError(
                'Use "last_work_day", "last_day" or a day from 1 to 28.'
            )
        return text


class SummarySettingsSerializer(serializers.Serializer):
    task_title = serializers.CharField(
        max_length=200, help_text="The task's title; {month} and {client} are filled in."
    )
    topic = serializers.CharField(
        max_length=100, allow_blank=True, required=False, default="", help_text="A topic name."
    )
    import_day = ImportDayField(
        help_text='"last_work_day", "last_day" or a day 1-28 of the following month.'
    )
    recurrence = serializers.CharField(read_only=True, default="monthly")
    next_import = serializers.DateField(read_only=True, allow_null=True)


class StatisticSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    definition = serializers.CharField()
    common = serializers.BooleanField()


class CustomTaskFieldSerializer(serializers.ModelSerializer[CustomTaskField]):
    id = serializers.UUIDField(source="public_id", read_only=True)
    type = serializers.ChoiceField(choices=FieldType.choices, default=FieldType.WHOLE_NUMBER)

    class Meta:
        model = CustomTaskField
        fields = ["id", "name", "type"]
        extra_kwargs: dict[str, Any] = {
            "name": {"validators": []}
        }  # uniqueness: the service says it


class FieldMappingSerializer(serializers.Serializer):
    mapping = serializers.DictField(
        child=serializers.UUIDField(allow_null=True),
        help_text="statistic key -> custom task field id, or null for not imported.",
    )


class ReloadSerializer(serializers.Serializer):
    client_id = serializers.UUIDField(required=False, allow_null=True)


class TaskValueSerializer(serializers.ModelSerializer[SummaryTaskValue]):
    field = serializers.UUIDField(source="field.public_id", read_only=True)
    # `field_name` is also an attribute of DRF's Field (see integrations.api.serializers).
    field_name = serializers.CharField(source="field.name", read_only=True)  # type: ignore[assignment]
    statistic = serializers.CharField(source="statistic_key", read_only=True)
    source_vendor = serializers.CharField(read_only=True)
    value = serializers.SerializerMethodField(method_name="value_text")
    typed_by = serializers.EmailField(source="typed_by.email", default=None, read_only=True)

    class Meta:
        model = SummaryTaskValue
        fields = [
            "field",
            "field_name",
            "statistic",
            "source_vendor",
            "value",
            "missing_reason",
            "imported_at",
            "typed_by_hand",
            "typed_by",
        ]

    def value_text(self, obj: SummaryTaskValue) -> str | None:
        return obj.display or None


class SummaryTaskSerializer(serializers.ModelSerializer[SummaryTask]):
    id = serializers.UUIDField(source="public_id", read_only=True)
    client = serializers.UUIDField(source="client.public_id", read_only=True)
    client_name = serializers.CharField(source="client.name", read_only=True)
    period = serializers.SerializerMethodField()
    topic = serializers.CharField(
        source="topic.name", default=None, read_only=True, allow_null=True
    )
    assignee = serializers.EmailField(
        source="assignee.email", default=None, read_only=True, allow_null=True
    )
    values = TaskValueSerializer(many=True, read_only=True)

    class Meta:
        model = SummaryTask
        fields = [
            "id",
            "client",
            "client_name",
            "period",
            "title",
            "topic",
            "status",
            "assignee",
            "due_date",
            "comment",
            "values",
        ]

    def get_period(self, obj: SummaryTask) -> str:
        return obj.period.strftime("%Y-%m")


class SummaryTaskUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=TaskStatus.choices, required=False)
    assignee = serializers.EmailField(
        required=False, allow_null=True, help_text="A member's e-mail, or null."
    )
    comment = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    due_date = serializers.DateField(required=False, allow_null=True)
    values = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        required=False,
        help_text="custom task field id -> a value typed by hand (kept until a reload).",
    )
