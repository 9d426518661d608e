"""LUNA's tasks service: long jobs split into subtasks that task workers share over Kafka."""
