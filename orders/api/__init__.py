"""The orders REST API: viewsets (views.py) and their input/output serializers (serializers.py)."""
