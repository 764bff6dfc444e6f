"""The Gradio demo app (gradio_dw_open_pose.py): in a real browser (Playwright + Debian's chromium) against
the app started as a subprocess, and in-process through the Gradio API.

Missing tools are installed by the `browser_tools` fixture (pip: playwright, gradio; apt: chromium).
The app and the browser run offline: requests leaving 127.0.0.1 are aborted. Stand-in models (a person
detector that finds the PEOPLE_416 people in any image, four of them confidently, and a random pose model)
and a synthetic photo: no ../shared needed.
"""

from __future__ import annotations

import io
import json
import warnings

import numpy as np
import pytest
from PIL import Image, ImageOps

import browser
import stand_in_models as sim

PHOTO_SIZE = (1536, 768)  # width, height: a 1024x512 map at 512, 128x64 at 64
# People the stand-in detector finds, in its 416x416 input (the photo fills its top 208 rows), and their
# objectness = class score: person scores 0.9025 (four) and 0.5625 (two).
PEOPLE_416 = [(20, 20, 80, 190), (100, 30, 150, 180), (170, 10, 240, 200), (260, 40, 300, 150),
              (320, 50, 400, 200), (330, 5, 390, 45)]
PEOPLE_SCORES = [0.95, 0.95, 0.95, 0.95, 0.75, 0.75]
CONFIDENT_PEOPLE = 4  # person score above 0.8


@pytest.fixture(scope="session")
def browser_tools():
    browser.ensure_browser_tools()


@pytest.fixture(scope="module")
def photo(tmp_path_factory):
    """A PHOTO_SIZE JPEG: smooth noise, and a bright figure in each of the stand-in's PEOPLE_416 boxes."""
    width, height = PHOTO_SIZE
    rng = np.random.default_rng(2)
    noise = rng.integers(0, 80, (height // 8, width // 8, 3), dtype=np.uint8)
    image = np.array(Image.fromarray(noise).resize(PHOTO_SIZE, Image.BILINEAR))
    scale = width / 416  # the detector's letterbox ratio, inverted
    for x1, y1, x2, y2 in PEOPLE_416:
        image[int(y1 * scale):int(y2 * scale), int(x1 * scale):int(x2 * scale)] = rng.integers(120, 256, 3)
    path = tmp_path_factory.mktemp("photo") / "people.jpg"
    Image.fromarray(image).save(path, quality=90)
    return path


@pytest.fixture(scope="module")
def people_yolox(model_dir):
    """A YOLOX-format stand-in that finds the PEOPLE_416 people, with PEOPLE_SCORES, in any image."""
    return sim.save(sim.yolox_people_model(PEOPLE_416, score=PEOPLE_SCORES), model_dir / "yolox_people_wide.onnx")


@pytest.fixture(scope="module")
def detector(people_yolox, random_pose):
    from annotator.dwpose import DWposeDetector

    return DWposeDetector(people_yolox, random_pose)


@pytest.fixture(scope="module")
def expected_people(detector, photo):
    """What the app must find with its default settings: every one of the stand-in's people."""
    _, poses = detector.annotate(Image.open(photo), 512, 512)
    assert len(poses) == len(PEOPLE_416) and poses.box_scores.min() > 0, "the stand-in detector finds them all"
    return len(PEOPLE_416)


@pytest.fixture(scope="module")
def app(browser_tools, people_yolox, random_pose, tmp_path_factory):
    """The app as a subprocess; it starts while the browser and the expected result are prepared."""
    process = browser.AppProcess(["--det", str(people_yolox), "--pose", str(random_pose)],
                                 tmp_path_factory.mktemp("app"))
    yield process
    process.stop()


@pytest.fixture(scope="module")
def chromium(browser_tools):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=browser.CHROMIUM, args=browser.CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(app, chromium):
    app.wait_until_answering()
    context = chromium.new_context(accept_downloads=True)
    blocked = []
    browser.block_internet(context, blocked)
    page = context.new_page()
    page.set_default_timeout(60_000)  # generous: CI machines can be busy
    page.goto(app.url, wait_until="domcontentloaded")
    page.wait_for_selector("#run_button")
    yield page
    context.close()
    if blocked:
        warnings.warn(f"the page tried to reach the internet (blocked): {sorted(set(blocked))}")


def download(page, button_selector):
    with page.expect_download() as info:
        page.click(button_selector)
    return info.value


def test_browser_upload_run_show_pose_and_download(app, expected_people, page, photo):
    page.set_input_files("#input_image input[type=file]", str(photo))
    page.wait_for_selector("#input_image img")
    page.click("#run_button")
    pose_img = page.wait_for_selector("#pose_image img[src*='/file=']")
    try:
        page.wait_for_function("document.querySelector('#people_found textarea').value !== ''")
    except Exception:
        pytest.fail(f"no result text; app output:\n{app.output()}")

    response = page.request.get(pose_img.get_attribute("src"))
    assert response.ok
    shown = np.asarray(Image.open(io.BytesIO(response.body())).convert("RGB"))
    assert shown.shape[:2] == (512, 1024)  # 1536x768 -> shorter side 512, sides multiples of 64
    assert shown.any(), "the pose map is all black"
    assert f"{expected_people} people found" in page.locator("#people_found textarea").input_value()

    json_file = download(page, "#download_json")
    assert json_file.suggested_filename.endswith(".json")
    openpose = json.loads(open(json_file.path(), encoding="utf-8").read())
    assert len(openpose["people"]) == expected_people
    assert (openpose["canvas_width"], openpose["canvas_height"]) == (1024, 512)

    png_file = download(page, "#download_png")
    assert png_file.suggested_filename.endswith(".png")
    assert np.array_equal(np.asarray(Image.open(png_file.path()).convert("RGB")), shown)

    npz_file = download(page, "#download_npz")
    assert npz_file.suggested_filename.endswith(".npz")
    with np.load(npz_file.path(), allow_pickle=True) as npz:
        assert sorted(npz.files) == sorted(f"person_{n}" for n in range(expected_people))
        assert npz["person_0"].item()["body"].shape == (18, 2)


def test_browser_run_without_image_says_what_to_do(page):
    page.click("#run_button")
    assert "Upload an image" in page.wait_for_selector(".toast-body").inner_text()


def test_browser_generate_panel_explains_how_to_enable_generation(page):
    import gradio_dw_open_pose as demo

    page.get_by_text("Generate with Stable Diffusion").click()
    help_text = page.wait_for_selector("#generation_help").inner_text()
    assert demo.ENABLE_GENERATION_COMMAND in help_text
    assert "--sd-model" in help_text and "--controlnet" in help_text
    assert page.query_selector("#generate_button") is None


# In-process: build_app around our own detector, called through the Gradio API as a client would.

@pytest.fixture
def serve(browser_tools):
    launched = []

    def start(app):
        app.queue().launch(server_name="127.0.0.1", server_port=browser.free_port(), prevent_thread_lock=True,
                           quiet=True, ssr_mode=False)
        launched.append(app)
        from gradio_client import Client

        return Client(app.local_url, verbose=False)

    yield start
    for app in launched:
        app.close()


def run_estimate(client, image, detect_resolution=512, image_resolution=512, detector_threshold=0.3,
                 detect_at_input_size=False, style="controlnet", xinsir=False):
    return client.predict(image, detect_resolution, image_resolution, True, True, True, False, 0.3,
                          detector_threshold, 4, detect_at_input_size, style, xinsir, api_name="/estimate_pose")


def test_build_app_api_threshold_per_call_and_errors(serve, detector, photo, expected_people, tmp_path):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    import gradio_dw_open_pose as demo

    client = serve(demo.build_app(detector))
    pose_map, text, png, json_path, npz = run_estimate(client, handle_file(str(photo)))
    assert f"{expected_people} people found" in text
    assert np.asarray(Image.open(pose_map)).any() and np.array_equal(np.asarray(Image.open(pose_map)),
                                                                      np.asarray(Image.open(png)))
    with np.load(npz, allow_pickle=True) as people:
        assert len(people.files) == expected_people
    assert len(json.loads(open(json_path, encoding="utf-8").read())["people"]) == expected_people

    # A stricter person threshold for this call only: the four confident people, the shared detector unchanged.
    _, strict_text, *_ = run_estimate(client, handle_file(str(photo)), detector_threshold=0.8)
    assert f"{CONFIDENT_PEOPLE} people found" in strict_text
    assert detector.detector.score_threshold == pytest.approx(0.3)

    # Detection at the photo's own size: the JSON's canvas is the photo, the map still 512 on its short side.
    full_map, _, _, full_json, _ = run_estimate(client, handle_file(str(photo)), detect_at_input_size=True)
    upright = ImageOps.exif_transpose(Image.open(photo))
    data = json.loads(open(full_json, encoding="utf-8").read())
    assert (data["canvas_width"], data["canvas_height"]) == upright.size
    assert Image.open(full_map).size == Image.open(pose_map).size
    # The other style and the xinsir sticks reach the renderer: the library's pixels for the same options.
    _, poses = detector.annotate(upright, 512, 512)
    for style, xinsir in (("sd-webui-controlnet", False), ("controlnet", True)):
        styled = np.asarray(Image.open(run_estimate(client, handle_file(str(photo)), style=style, xinsir=xinsir)[0]))
        expected, _ = detector.annotate(upright, 512, 512, style=style, scale_stick_for_xinsr_cn=xinsir)
        assert np.array_equal(styled, expected) and not np.array_equal(styled, np.asarray(Image.open(pose_map)))

    with pytest.raises(AppError, match="Upload an image"):
        run_estimate(client, None)
    huge = tmp_path / "huge.png"
    Image.new("L", (8200, 8000)).save(huge)
    with pytest.raises(AppError, match="megapixels"):  # refused before it is decoded
        run_estimate(client, handle_file(str(huge)))
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(photo.read_bytes()[:5000])  # a truncated upload
    with pytest.raises(AppError):  # gradio refuses it while reading it; the app keeps serving
        run_estimate(client, handle_file(str(broken)))
    assert f"{expected_people} people found" in run_estimate(client, handle_file(str(photo)))[1]  # still serving


def test_generation_with_a_tiny_sd15_checkpoint(serve, detector, photo, tmp_path):
    """The Generate path (ControlNetModel + StableDiffusionControlNetPipeline.from_pretrained, a call) on
    random weights in the SD 1.5 / ControlNet layout; needs torch, diffusers and transformers."""
    pytest.importorskip("torch")
    pytest.importorskip("diffusers")
    pytest.importorskip("transformers")
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    import gradio_dw_open_pose as demo
    from tiny_diffusion import save_tiny_sd15_and_controlnet

    sd_model, controlnet = save_tiny_sd15_and_controlnet(tmp_path)
    client = serve(demo.build_app(detector, demo.ControlNetGenerator(str(sd_model), str(controlnet))))
    with pytest.raises(AppError, match="Run the pose estimation first"):
        client.predict("a person", "", 1, 7.5, 0, api_name="/generate")
    run_estimate(client, handle_file(str(photo)), detect_resolution=256, image_resolution=64)
    generated = client.predict("a person", "", 1, 7.5, 0, api_name="/generate")
    assert Image.open(generated).size == (128, 64)  # the pose map's size: 1536x768 -> 128x64


def test_video_upload_gives_the_pose_video_and_jsonl(serve, detector, photo, tmp_path):
    pytest.importorskip("av")
    from gradio_client import handle_file

    import gradio_dw_open_pose as demo
    from annotator.dwpose.video import VideoWriter, read_video

    image = np.asarray(ImageOps.exif_transpose(Image.open(photo)).convert("RGB").resize((640, 360)))
    clip = tmp_path / "clip.mp4"
    with VideoWriter(clip, 10) as writer:
        for i in range(6):
            writer.write(np.roll(image, 4 * i, axis=1), i / 10)
    client = serve(demo.build_app(detector))
    video, jsonl, text = client.predict(handle_file(str(clip)), 256, True, "all",
                                        api_name="/estimate_video")
    assert text == "6 frames."
    lines = [json.loads(line) for line in open(jsonl, encoding="utf-8")]
    assert [line["frame"] for line in lines] == list(range(6)) and all(line["people"] for line in lines)
    assert all("track_id" in person for line in lines for person in line["people"])
    video_path = video["video"] if isinstance(video, dict) else video
    frames = list(read_video(video_path))
    assert len(frames) == 6 and min(frames[0].image.shape[:2]) == 256


def test_pose_file_upload_draws_it(serve, detector, tmp_path):
    """An OpenPose JSON (as a pose editor saves it) and an npz with its size, drawn as the library draws them."""
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    import gradio_dw_open_pose as demo
    from annotator.dwpose import Poses, draw_poses

    rng = np.random.default_rng(4)
    poses = Poses(rng.uniform(10, 230, (2, 134, 2)), np.full((2, 134), 0.9, np.float32), np.zeros((2, 4), np.float32),
                  np.zeros(2, np.float32), 320, 240)
    poses.save_openpose_json(tmp_path / "edited.json")
    poses.save_npz(tmp_path / "cog.npz")
    client = serve(demo.build_app(detector))

    def render(path, width=0, height=0):
        return client.predict(handle_file(str(path)), width, height, True, True, True, False, 0.3, 4, "controlnet",
                              False, api_name="/render_pose_file")

    pose_map, info, download = render(tmp_path / "edited.json")
    assert info == "2 people."
    np.testing.assert_array_equal(np.asarray(Image.open(pose_map).convert("RGB")), draw_poses(poses))
    np.testing.assert_array_equal(np.asarray(Image.open(download).convert("RGB")), draw_poses(poses))
    pose_map, _, _ = render(tmp_path / "cog.npz", 320, 240)
    np.testing.assert_array_equal(np.asarray(Image.open(pose_map).convert("RGB")), draw_poses(poses))
    with pytest.raises(AppError, match="does not say the image size"):
        render(tmp_path / "cog.npz")
    (tmp_path / "bad.json").write_text('{"people": [{"pose_keypoints_2d": [1, 2]}]}')
    with pytest.raises(AppError, match="Could not draw this pose file"):
        render(tmp_path / "bad.json")
