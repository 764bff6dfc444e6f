"""Stand-in of modules_forge/supported_preprocessor.py: Preprocessor, PreprocessorParameter, PreprocessorNone."""

from modules_forge.shared import add_supported_preprocessor


class PreprocessorParameter:
    def __init__(self, minimum=0.0, maximum=1.0, step=0.01, label="Parameter 1", value=0.5, visible=False, **kwargs):
        self.gradio_update_kwargs = dict(minimum=minimum, maximum=maximum, step=step, label=label, value=value,
                                         visible=visible, **kwargs)


class Preprocessor:
    def __init__(self):
        self.name = "PreprocessorBase"
        self.tags = []
        self.model_filename_filters = []
        self.slider_resolution = PreprocessorParameter(label="Resolution", minimum=128, maximum=2048, value=512,
                                                       step=8, visible=True)
        self.slider_1 = PreprocessorParameter()
        self.slider_2 = PreprocessorParameter()
        self.slider_3 = PreprocessorParameter()
        self.model_patcher = None
        self.show_control_mode = True
        self.do_not_need_model = False
        self.sorting_priority = 0  # higher goes to top in the list
        self.corp_image_with_a1111_mask_when_in_img2img_inpaint_tab = True
        self.fill_mask_with_one_when_resize_and_fill = False
        self.use_soft_projection_in_hr_fix = False
        self.expand_mask_when_resize_and_fill = False

    def process_before_every_sampling(self, process, cond, mask, *args, **kwargs):
        return cond, mask

    def __call__(self, input_image, resolution, slider_1=None, slider_2=None, slider_3=None, input_mask=None,
                 **kwargs):
        return input_image


class PreprocessorNone(Preprocessor):
    def __init__(self):
        super().__init__()
        self.name = "None"
        self.sorting_priority = 10


add_supported_preprocessor(PreprocessorNone())
