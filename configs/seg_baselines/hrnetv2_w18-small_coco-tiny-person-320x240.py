"""HRNetV2-W18-Small-v1 on the coco_tiny person task (see the base): the reference row."""
_base_ = ['./_base_/coco-tiny-person-320x240.py']
