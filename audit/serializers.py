from datetime import UTC

from rest_framework import serializers

from .models import AuditAction


class AuditEventOutputSerializer(serializers.Serializer):
    audit_event_id = serializers.IntegerField(source="id")
    occurred_at = serializers.DateTimeField(default_timezone=UTC)
    actor = serializers.CharField(source="actor_label",
                                  help_text='Who, as recorded then: a username, "token:<name>" or "system:<part>".')
    actor_user_id = serializers.IntegerField(source="actor_id", allow_null=True)
    address = serializers.CharField(allow_null=True, help_text="The client's IP address, where there was one.")
    action = serializers.ChoiceField(choices=AuditAction.choices)
    object_type = serializers.CharField(allow_blank=True, help_text="app_label.model, e.g. payouts.payoutrun.")
    object_id = serializers.CharField(allow_blank=True)
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)
    detail = serializers.JSONField()


class AuditEventPageOutputSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = AuditEventOutputSerializer(many=True)
