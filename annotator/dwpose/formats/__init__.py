"""The pose formats users exchange, one module each: what the project writes, and reads back.

openpose_json.py  sd-webui-controlnet's OpenPose JSON (its pose editor's format), in pixels
comfyui.py        comfyui_controlnet_aux's POSE_KEYPOINT frames
pose_dict.py      the normalised pose dicts of DWPose-based video pipelines (MimicMotion, easy_dwpose)
npz.py            the Cog-style npz (person_<i> -> body, face, hands, relative coordinates)
coco_wholebody.py COCO-WholeBody result entries (for xtcocotools / the evaluation)
table.py          Parquet rows (batch --table, Ray Data)

Writers take a Poses (or anything with its attributes); readers return the fields a Poses is made of,
so that `Poses.from_<format>(...)` is the one place Poses are built from a format.
"""
