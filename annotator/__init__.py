"""ControlNet annotators; `annotator.dwpose` is the DWPose `dw_openpose_full` preprocessor."""
