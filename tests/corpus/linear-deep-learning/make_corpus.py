"""Write the hand-made student notebooks of the linear-deep-learning test corpus.

Run from the repository root (the output is deterministic: fixed cell ids):

    .venv/bin/python tests/corpus/linear-deep-learning/make_corpus.py

The notebooks imitate real submissions for Neuromatch Academy W1D2 "Linear
Deep Learning": ``!pip install`` lines, ``%matplotlib inline``, ``%%capture``
cells, imports of packages the grader does not have (``ipywidgets``,
``vibecheck``, ``evaltools``, ``nma_helpers``), video and slide cells,
downloads and long training runs at the top level, ``# @title`` helper cells
whose functions and classes the exercises call, nbgrader metadata and
``# YOUR CODE HERE`` markers. What each notebook must score is in
``expected.yaml`` next to this file; ``tests/test_corpus_linear_deep_learning.py``
grades them.

The student code below is written independently of ``reference/`` (in the
notebooks' own style: ``np.prod(w) / w``, ``np.linalg.inv``, ``torch.svd``,
loops over grids), so the corpus tests the grader, not a copy of the key.
"""
from __future__ import annotations

import json
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent


# ---------------------------------------------------------------------------
# cell helpers


class NB:
    def __init__(self, name: str):
        self.name = name
        self.cells = []

    def md(self, text: str):
        self.cells.append(("markdown", text.strip("\n"), {}))
        return self

    def code(self, text: str, *, grade_id: str | None = None, solution: bool = False, tests: int = 0,
             **meta):
        metadata = dict(meta)
        if grade_id:
            metadata["nbgrader"] = {"grade": bool(tests), "grade_id": grade_id, "locked": not solution,
                                    "schema_version": 3, "solution": solution, "task": False}
            if tests:
                metadata["nbgrader"]["points"] = tests
        self.cells.append(("code", text.strip("\n"), metadata))
        return self

    def build(self) -> nbformat.NotebookNode:
        nb = nbformat.v4.new_notebook()
        nb.metadata = {
            "colab": {"collapsed_sections": [], "include_colab_link": True, "name": f"{self.name}", "toc_visible": True},
            "kernel": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python", "version": "3.9.17"},
        }
        for i, (kind, text, meta) in enumerate(self.cells):
            if kind == "markdown":
                cell = nbformat.v4.new_markdown_cell(text, metadata=meta)
            else:
                cell = nbformat.v4.new_code_cell(text, metadata=meta)
                if "plt." in text or "print(" in text:  # a stale output, as in a saved notebook
                    cell.execution_count = i
                    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="Random seed 2021 has been set.\n")]
            cell.id = f"{self.name[:40]}-{i:03d}"
            nb.cells.append(cell)
        return nb

    def write(self, version: int = 4) -> Path:
        nb = self.build()
        nbformat.validate(nb)
        path = HERE / f"{self.name}.ipynb"
        if version == 4:
            path.write_text(nbformat.writes(nb))
        else:
            path.write_text(nbformat.writes(nbformat.convert(nb, version), version=version))
        return path


# ---------------------------------------------------------------------------
# Tutorial 1 blocks


T1_HEADER = """
<a href="https://colab.research.google.com/github/NeuromatchAcademy/course-content-dl/blob/main/tutorials/W1D2_LinearDeepLearning/student/W1D2_Tutorial1.ipynb" target="_parent"><img src="https://colab.research.google.com/assets/colab-badge.svg" alt="Open In Colab"/></a>

# Tutorial 1: Gradient Descent and AutoGrad

**Week 1, Day 2: Linear Deep Learning**

**By Neuromatch Academy**

__Content creators:__ Saeed Salehi, Vladimir Haltakov, Andrew Saxe

**Our 2021 Sponsors, including Presenting Sponsor Facebook Reality Labs**
"""

T1_SLIDES = """
# @title Tutorial slides
# @markdown These are the slides for the videos in all tutorials today
from IPython.display import IFrame
link_id = "3qevp"
print(f"If you want to download the slides: https://osf.io/download/{link_id}/")
IFrame(src=f"https://mfr.ca-1.osf.io/render?url=https://osf.io/{link_id}/?direct%26mode=render%26action=download%26mode=render", width=854, height=480)
"""

FEEDBACK_GADGET = """
%%capture
# @title Install and import feedback gadget

!pip3 install vibecheck datatops --quiet

from vibecheck import DatatopsContentReviewContainer
def content_review(notebook_section: str):
    return DatatopsContentReviewContainer(
        "",  # No text prompt
        notebook_section,
        {
            "url": "https://pmyvdlilci.execute-api.us-east-1.amazonaws.com/klab",
            "name": "neuromatch_dl",
            "user_key": "f379rz8y",
        },
    ).render()


feedback_prefix = "W1D2_T1"
"""

EVALTOOLS = """
# @title Install dependencies
!pip install git+https://github.com/NeuromatchAcademy/evaltools --quiet
from evaltools.airtable import AirtableForm

# generate airtable form
atform = AirtableForm('appn7VdPRseSoMXEG','W1D2_T1','https://portal.neuromatchacademy.org/api/redirect/to/9c55f6cb-cdf9-4429-ac1c-ec44fe64c303')
"""

T1_IMPORTS = """
# Imports
import torch
import numpy as np
from torch import nn
from math import pi
import matplotlib.pyplot as plt
%matplotlib inline
"""

FIGURE_SETTINGS = """
# @title Figure settings
import ipywidgets as widgets  # interactive display
%config InlineBackend.figure_format = 'retina'
plt.style.use("https://raw.githubusercontent.com/NeuromatchAcademy/content-creation/main/nma.mplstyle")
"""

T1_PLOTTING = """
# @title Plotting functions

from mpl_toolkits.axes_grid1 import make_axes_locatable

def ex3_plot(model, x, y, ep, lss):
  \"\"\"
  Plot training loss

  Args:
    model: nn.module
      Model implementing regression
    x: np.ndarray
      Training Data
    y: np.ndarray
      Targets
    ep: int
      Number of epochs
    lss: function
      Loss function

  Returns:
    Nothing
  \"\"\"
  f, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4))
  ax1.set_title("Regression")
  ax1.plot(x, model(x).detach().numpy(), color='r', label='prediction')
  ax1.scatter(x, y, c='c', label='targets')
  ax1.set_xlabel('x')
  ax1.set_ylabel('y')
  ax1.legend()

  ax2.set_title("Training loss")
  ax2.plot(np.linspace(1, ep, ep), lss, color='y')
  ax2.set_xlabel("Epoch")
  ax2.set_ylabel("MSE")

  plt.show()


def ex1_plot(fun_z, fun_dz):
  \"\"\"
  Plots the function and gradient vectors

  Args:
    fun_z: f.__name__
      Function implementing sine function
    fun_dz: f.__name__
      Function implementing sine function as gradient vector

  Returns:
    Nothing
  \"\"\"
  x, y = np.arange(-3, 3 + 0.02, 0.02), np.arange(-3, 3 + 0.02, 0.02)
  xx, yy = np.meshgrid(x, y, sparse=True)
  zz = fun_z(xx, yy)
  xg, yg = np.arange(-2.5, 2.5 + 0.2, 0.2), np.arange(-2.5, 2.5 + 0.2, 0.2)
  xxg, yyg = np.meshgrid(xg, yg, sparse=True)
  zxg, zyg = fun_dz(xxg, yyg)

  plt.figure(figsize=(8, 7))
  plt.title("Gradient vectors point towards steepest ascent")
  contplt = plt.contourf(x, y, zz, levels=20)
  plt.quiver(xxg, yyg, zxg, zyg, scale=50, color='r', )
  plt.xlabel('$x$')
  plt.ylabel('$y$')
  ax = plt.gca()
  divider = make_axes_locatable(ax)
  cax = divider.append_axes("right", size="5%", pad=0.05)
  cbar = plt.colorbar(contplt, cax=cax)
  cbar.set_label('$z = h(x, y)$')

  plt.show()
"""

SET_SEED = """
# @title Set random seed

# @markdown Executing `set_seed(seed=seed)` you are setting the seed

# for DL its critical to set the random seed so that students can have a
# baseline to compare their results to expected results.
# Read more here: https://pytorch.org/docs/stable/notes/randomness.html

# Call `set_seed` function in the exercises to ensure reproducibility.
import random
import torch

def set_seed(seed=None, seed_torch=True):
  \"\"\"
  Function that controls randomness. NumPy and random modules must be imported.
  \"\"\"
  if seed is None:
    seed = np.random.choice(2 ** 32)
  random.seed(seed)
  np.random.seed(seed)
  if seed_torch:
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    torch.cuda.manual_seed(seed)
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True

  print(f'Random seed {seed} has been set.')


# In case that `DataLoader` is used
def seed_worker(worker_id):
  worker_seed = torch.initial_seed() % 2**32
  np.random.seed(worker_seed)
  random.seed(worker_seed)
"""

SET_DEVICE = """
# @title Set device (GPU or CPU). Execute `set_device()`
# especially if torch modules used.

# inform the user if the notebook uses GPU or CPU.

def set_device():
  device = "cuda" if torch.cuda.is_available() else "cpu"
  if device != "cuda":
    print("GPU is not enabled in this notebook. \\n"
          "If you want to enable it, in the menu under `Runtime` -> \\n"
          "`Hardware accelerator.` and select `GPU` from the dropdown menu")
  else:
    print("GPU is enabled in this notebook. \\n"
          "If you want to disable it, in the menu under `Runtime` -> \\n"
          "`Hardware accelerator.` and select `None` from the dropdown menu")

  return device
"""

SEED_CALL = """
SEED = 2021
set_seed(seed=SEED)
DEVICE = set_device()
"""


def video_cell(title: str, youtube: str, bilibili: str) -> str:
    return f"""
# @title Video: {title}
from ipywidgets import widgets
from IPython.display import YouTubeVideo
from IPython.display import IFrame
from IPython.display import display


class PlayVideo(IFrame):
  def __init__(self, id, source, page=1, width=400, height=300, **kwargs):
    self.id = id
    if source == 'Bilibili':
      src = f'https://player.bilibili.com/player.html?bvid={{id}}&page={{page}}'
    elif source == 'Osf':
      src = f'https://mfr.ca-1.osf.io/render?url=https://osf.io/download/{{id}}/?direct%26mode=render'
    super(PlayVideo, self).__init__(src, width, height, **kwargs)


def display_videos(video_ids, W=400, H=300, fs=1):
  tab_contents = []
  for i, video_id in enumerate(video_ids):
    out = widgets.Output()
    with out:
      if video_ids[i][0] == 'Youtube':
        video = YouTubeVideo(id=video_ids[i][1], width=W,
                             height=H, fs=fs, rel=0)
        print(f'Video available at https://youtube.com/watch?v={{video.id}}')
      else:
        video = PlayVideo(id=video_ids[i][1], source=video_ids[i][0], width=W,
                          height=H, fs=fs, autoplay=False)
      display(video)
    tab_contents.append(out)
  return tab_contents


video_ids = [('Youtube', '{youtube}'), ('Bilibili', '{bilibili}')]
tab_contents = display_videos(video_ids, W=854, H=480)
tabs = widgets.Tab()
tabs.children = tab_contents
for i in range(len(tab_contents)):
  tabs.set_title(i, video_ids[i][0])
display(tabs)
"""


FUN_Z = '''
def fun_z(x, y):
  """Function sin(x^2 + y^2)

  Args:
    x (float, np.ndarray): variable x
    y (float, np.ndarray): variable y

  Return:
    z (float, np.ndarray): sin(x^2 + y^2)
  """
  z = np.sin(x**2 + y**2)
  return z
'''

FUN_DZ = '''
def fun_dz(x, y):
  """Function sin(x^2 + y^2)

  Args:
    x (float, np.ndarray): variable x
    y (float, np.ndarray): variable y

  Return:
    (tuple): gradient vector for sin(x^2 + y^2)
  """
  dz_dx = 2 * x * np.cos(x**2 + y**2)
  dz_dy = 2 * y * np.cos(x**2 + y**2)
  return (dz_dx, dz_dy)
'''

FUN_DZ_FIRST_ATTEMPT = '''
def fun_dz(x, y):
  """first try, fixed below"""
  dz_dx = np.cos(x**2 + y**2)
  dz_dy = np.cos(x**2 + y**2)
  return (dz_dx, dz_dy)
'''

FUN_DZ_MISSING_2 = '''
def fun_dz(x, y):
  """Function sin(x^2 + y^2)

  Return:
    (tuple): gradient vector for sin(x^2 + y^2)
  """
  # YOUR CODE HERE
  u = x**2 + y**2
  dz_dx = x * np.cos(u)
  dz_dy = y * np.cos(u)
  return (dz_dx, dz_dy)
'''

EX1_PLOT_CALL = """
## Uncomment to run
ex1_plot(fun_z, fun_dz)
"""

LOSS_GRAD = '''
def loss_grad(w, b, x, y):
  """Gradient of L = (y - tanh(w x + b))^2 computed by hand (analytical exercise)

  Returns:
    (dL/dw, dL/db)
  """
  y_hat = np.tanh(w * x + b)
  dloss_dyhat = -2 * (y - y_hat)
  dyhat_du = 1 - np.tanh(w * x + b)**2
  return dloss_dyhat * dyhat_du * x, dloss_dyhat * dyhat_du
'''

LOSS_GRAD_SIGN = '''
def loss_grad(w, b, x, y):
  # YOUR CODE HERE
  p = np.tanh(w * x + b)
  g = 2 * (y - p) * (1 - p ** 2)
  return g * x, g
'''

GRAPH = '''
def graph_forward(x, y, z):
  """forward pass through f = tanh(ln(1 + z 2x / sin(y)))"""
  a = 2 * x
  b = np.sin(y)
  c = a / b
  d = z * c
  e = np.log(d + 1)
  f = np.tanh(e)
  return {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f}


def graph_backward(x, y, z):
  """backward pass, reusing the forward nodes"""
  n = graph_forward(x, y, z)
  df_de = 1 - np.tanh(n["e"])**2
  de_dd = 1 / (n["d"] + 1)
  dd_dc, dd_dz = z, n["c"]
  dc_da, dc_db = 1 / n["b"], -n["a"] / n["b"]**2
  da_dx, db_dy = 2, np.cos(y)
  df_dx = df_de * de_dd * dd_dc * dc_da * da_dx
  df_dy = df_de * de_dd * dd_dc * dc_db * db_dy
  df_dz = df_de * de_dd * dd_dz
  return df_dx, df_dy, df_dz
'''

GRAPH_NOT_IMPLEMENTED = '''
def graph_forward(x, y, z):
  """forward pass through f = tanh(ln(1 + z 2x / sin(y)))"""
  # YOUR CODE HERE
  raise NotImplementedError()


def graph_backward(x, y, z):
  """backward pass"""
  # YOUR CODE HERE
  raise NotImplementedError()
'''

SIMPLE_GRAPH = '''
class SimpleGraph:
  def __init__(self, w, b):
    """Initializing the SimpleGraph

    Args:
      w (float): initial value for weight
      b (float): initial value for bias
    """
    assert isinstance(w, float)
    assert isinstance(b, float)
    self.w = torch.tensor([w], requires_grad=True)
    self.b = torch.tensor([b], requires_grad=True)

  def forward(self, x):
    """Forward pass

    Args:
      x (torch.Tensor): 1D tensor of features

    Returns:
      torch.Tensor: model predictions
    """
    assert isinstance(x, torch.Tensor)
    #################################################
    ## Implement the the forward pass to calculate prediction
    ## Note that prediction is not the loss, but the value after `tanh`
    # Complete the function and remove or comment the line below
    # raise NotImplementedError("Forward Pass `forward`")
    #################################################
    prediction = torch.tanh(x * self.w + self.b)
    return prediction


def sq_loss(y_true, y_prediction):
  """L2 loss function

  Args:
    y_true (torch.Tensor): 1D tensor of target labels
    y_prediction (torch.Tensor): 1D tensor of predictions

  Returns:
    torch.Tensor: L2-loss (squared error)
  """
  assert isinstance(y_true, torch.Tensor)
  assert isinstance(y_prediction, torch.Tensor)
  #################################################
  ## Implement the simple squared loss function
  # Complete the function and remove or comment the line below
  # raise NotImplementedError("Square loss `sq_loss`")
  #################################################
  loss = (y_true - y_prediction)**2
  return loss


feature = torch.tensor([1])  # input tensor
target = torch.tensor([7])  # target tensor
## Uncomment to run
simple_graph = SimpleGraph(-0.5, 0.5)
print(f"initial weight = {simple_graph.w.item()}, "
      f"\\ninitial bias = {simple_graph.b.item()}")
prediction = simple_graph.forward(feature)
square_loss = sq_loss(target, prediction)
print(f"for x={feature.item()} and y={target.item()}, "
      f"prediction={prediction.item()}, and L2 Loss = {square_loss.item()}")
'''

SIMPLE_GRAPH_ELLIPSIS = '''
class SimpleGraph:
  def __init__(self, w, b):
    assert isinstance(w, float)
    assert isinstance(b, float)
    self.w = torch.tensor([w], requires_grad=True)
    self.b = torch.tensor([b], requires_grad=True)

  def forward(self, x):
    assert isinstance(x, torch.Tensor)
    #################################################
    ## Implement the the forward pass to calculate prediction
    ## Note that prediction is not the loss, but the value after `tanh`
    # Complete the function and remove or comment the line below
    # raise NotImplementedError("Forward Pass `forward`")
    #################################################
    prediction = ...
    return prediction


def sq_loss(y_true, y_prediction):
  assert isinstance(y_true, torch.Tensor)
  assert isinstance(y_prediction, torch.Tensor)
  #################################################
  ## Implement the simple squared loss function
  # Complete the function and remove or comment the line below
  # raise NotImplementedError("Square loss `sq_loss`")
  #################################################
  loss = ...
  return loss
'''

BACKWARD_DEMO = """
feature = torch.tensor([2.0])
target = torch.tensor([7.0])
simple_graph = SimpleGraph(-0.5, 0.5)
prediction = simple_graph.forward(feature)
loss = sq_loss(target, prediction)
loss.backward()
print(f'dL/dw = {simple_graph.w.grad}')
print(f'dL/db = {simple_graph.b.grad}')
"""

WIDENET = '''
class WideNet(nn.Module):
  """
   A Wide neural network with a single hidden layer
   Structure is as follows:
   nn.Sequential(
        nn.Linear(1, n_cells) + nn.Tanh(), # Fully connected layer with tanh activation
        nn.Linear(n_cells, 1) # Final fully connected layer
    )
  """

  def __init__(self):
    """
    Initializing the parameters of WideNet

    Args:
      None

    Returns:
      Nothing
    """
    n_cells = 512
    super().__init__()
    self.layers = nn.Sequential(
        nn.Linear(1, n_cells),
        nn.Tanh(),
        nn.Linear(n_cells, 1),
    )

  def forward(self, x):
    """
    Forward pass of WideNet

    Args:
      x: torch.Tensor
        2D tensor of features

    Returns:
      Torch tensor of model predictions
    """
    return self.layers(x)
'''

T1_DATA = """
## setting random seed
set_seed(seed=SEED)

n_samples = 32  # number of samples
inputs = torch.linspace(-1.0, 1.0, n_samples).reshape(n_samples, 1)
noise = torch.randn(n_samples, 1) / 4
targets = torch.sin(pi * inputs) + noise
plt.figure(figsize=(8, 5))
plt.scatter(inputs, targets, c='c')
plt.xlabel('x (inputs)')
plt.ylabel('y (targets)')
plt.show()
"""

TRAIN = '''
def train(features, labels, model, loss_fun, optimizer, n_epochs):
  """Training function

  Args:
    features (torch.Tensor): features (input) with shape torch.Size([n_samples, 1])
    labels (torch.Tensor): labels (targets) with shape torch.Size([n_samples, 1])
    model (torch nn.Module): the neural network
    loss_fun (function): loss function
    optimizer(function): optimizer
    n_epochs (int): number of training iterations

  Returns:
    list: record (evolution) of training losses
  """
  loss_record = []  # keeping recods of loss

  for i in range(n_epochs):
    #################################################
    ## Implement the missing parts of the training loop
    # Complete the function and remove or comment the line below
    # raise NotImplementedError("Training loop `train`")
    #################################################
    optimizer.zero_grad()  # set gradients to 0
    predictions = model(features)  # Compute model prediction (output)
    loss = loss_fun(predictions, labels)  # Compute the loss
    loss.backward()  # Compute gradients (backward pass)
    optimizer.step()  # update parameters (optimizer takes a step)

    loss_record.append(loss.item())
  return loss_record
'''

TRAIN_NO_ZERO_GRAD = '''
def train(features, labels, model, loss_fun, optimizer, n_epochs):
  """Training function"""
  loss_record = []  # keeping recods of loss

  for i in range(n_epochs):
    # YOUR CODE HERE
    predictions = model(features)  # Compute model prediction (output)
    loss = loss_fun(predictions, labels)  # Compute the loss
    loss.backward()  # Compute gradients (backward pass)
    optimizer.step()  # update parameters (optimizer takes a step)

    loss_record.append(loss.item())
  return loss_record
'''

T1_LONG_RUN = """
%%time
set_seed(seed=2021)
epochs = 1847  # Cauchy, Exercices d'analyse et de physique mathematique (1847)
## Uncomment to run
wide_net = WideNet()
loss_function = nn.MSELoss()
sgd_optimizer = torch.optim.SGD(wide_net.parameters(), lr=0.003, momentum=0.9)
losses = train(inputs, targets, wide_net, loss_function, sgd_optimizer, epochs)
with torch.no_grad():
  ex3_plot(wide_net, inputs, targets, epochs, losses)
"""

AIRTABLE = """
# @title Airtable Submission Link
from IPython import display as IPydisplay
IPydisplay.HTML(
    f\"\"\"
  <div>
    <a href= "{atform.url()}" target="_blank">
    <img src="https://github.com/NeuromatchAcademy/course-content-dl/blob/main/tutorials/static/AirtableSubmissionButton.png?raw=1"
  alt="button link to Airtable" style="width:410px"></a>
    </div>\"\"\" )
"""

# ---------------------------------------------------------------------------
# Tutorial 2 blocks

T2_HEADER = """
# Tutorial 2: Learning Hyperparameters

**Week 1, Day 2: Linear Deep Learning**

__Content creators:__ Saeed Salehi, Andrew Saxe
"""

T2_HELPERS = '''
# @title Helper functions

def gen_samples(n, a, sigma):
  """
  Generates n samples with
  `y = z * x + noise(sigma)` linear relation.

  Args:
    n : int
      Number of datapoints within sample
    a : float
      Offset of x
    sigma : float
      Standard deviation of distribution

  Returns:
    x : np.array
      if sigma > 0, x = random values
      else, x = evenly spaced numpy array
    y : np.array
      Straight line with x as input
  """
  assert n > 0
  assert sigma >= 0

  if sigma > 0:
    x = np.random.rand(n)
    noise = np.random.normal(scale=sigma, size=(n))
    y = a * x + noise
  else:
    x = np.linspace(0.0, 1.0, n, endpoint=True)
    y = a * x
  return x, y


class DeepNarrowLNN:
  """
  Deep but thin (one neuron per layer) linear neural network
  """

  def __init__(self, init_weights):
    """
    Initialize parameters of deep but thin linear neural network

    Args:
      init_weights: np.ndarray
        Initial weights for the model

    Returns:
      Nothing
    """
    assert init_weights.size >= 1
    self.w = init_weights.reshape(1, -1).copy()

  def forward(self, x):
    """
    Forward propagation of DeepNarrow LNN

    Args:
      x: torch.Tensor
        1D tensor of features

    Returns:
      y: torch.Tensor
        Predictions
    """
    y = np.prod(self.w) * x
    return y

  def loss(self, y_t, y_p):
    """
    Mean squared error (L2)

    Args:
      y_t: torch.Tensor
        True targets
      y_p: torch.Tensor
        Model predictions

    Returns:
      Mean squared error
    """
    assert y_p.shape == y_t.shape
    mse = ((y_t - y_p)**2).mean()
    return mse

  def dloss_dw(self, x, y_t):
    """
    Analytical gradient of weights

    Args:
      x: torch.Tensor
        1D tensor of features
      y_t: torch.Tensor
        True targets

    Returns:
      Analytical gradient of weights
    """
    assert x.shape == y_t.shape
    Err = y_t - self.forward(x)
    dw = - (2 * (Err * x).mean()) * (np.prod(self.w) / self.w)
    return dw

  def train(self, x, y_t, eta, n_ep):
    """
    Gradient descent algorithm

    Args:
      x: torch.Tensor
        1D tensor of features
      y_t: torch.Tensor
        True targets
      eta: float
        Learning rate
      n_ep: int
        Number of epochs

    Returns:
      loss_records: np.ndarray
        Log of loss per epoch
      weight_records: np.ndarray
        Log of weights per epoch
    """
    loss_records = np.empty(n_ep)  # Pre allocation of loss records
    weight_records = np.empty((n_ep, self.w.size))  # Pre allocation of weight records

    for i in range(n_ep):
      y_p = self.forward(x)
      loss_records[i] = self.loss(y_t, y_p)
      dloss_dw = self.dloss_dw(x, y_t)
      self.w -= eta * dloss_dw
      weight_records[i] = self.w
    return loss_records, weight_records
'''

T2_PLOTTING = '''
# @title Plotting functions

def plot_x_y_(x_t_, y_t_, x_ev_, y_ev_, loss_log_, weight_log_):
  """
  Plot train data and test results

  Args:
  x_t_: np.ndarray
    Training dataset
  y_t_: np.ndarray
    Ground truth corresponding to training dataset
  x_ev_: np.ndarray
    Evaluation set
  y_ev_: np.ndarray
    ShallowNarrow predictions
  loss_log_: list
    Training loss records
  weight_log_: list
    Training weight records (evolution of weights)

  Returns:
    Nothing
  """
  plt.figure(figsize=(12, 4))
  plt.subplot(1, 3, 1)
  plt.scatter(x_t_[:, 0], y_t_[:, 0], c='r', alpha=0.3, label='Training')
  plt.scatter(x_ev_, y_ev_, c='b', marker='.', label='Evaluation')
  plt.legend()
  plt.subplot(1, 3, 2)
  plt.plot(loss_log_, c='r')
  plt.subplot(1, 3, 3)
  plt.plot(weight_log_)
  plt.tight_layout()
  plt.show()
'''

SHALLOW = '''
class ShallowNarrowExercise:
  """
  Shallow and narrow (one neuron per layer) linear neural network
  """

  def __init__(self, init_weights):
    """
    Initialize parameters of ShallowNarrow Net

    Args:
      init_weights: list
        Initial weights

    Returns:
      Nothing
    """
    assert isinstance(init_weights, (list, np.ndarray, tuple))
    assert len(init_weights) == 2
    self.w1 = init_weights[0]
    self.w2 = init_weights[1]

  def forward(self, x):
    """
    The forward pass through netwrok y = x * w1 * w2

    Args:
      x: np.ndarray
        Features (inputs) to neural net

    Returns:
      y: np.ndarray
        Neural network output (prediction)
    """
    y = x * self.w1 * self.w2
    return y

  def dloss_dw(self, x, y_true):
    """
    Gradient of loss with respect to weights

    Args:
      x: np.ndarray
        Features (inputs) to neural net
      y_true: np.ndarray
        True labels

    Returns:
      dloss_dw1: float
        Mean gradient of loss with respect to w1
      dloss_dw2: float
        Mean gradient of loss with respect to w2
    """
    assert x.shape == y_true.shape
    ######################################################################
    ## Implement the gradient computation function
    # Complete the function and remove or comment the line below
    # raise NotImplementedError("Gradient function `dloss_dw`")
    ######################################################################
    dloss_dw1 = - (2 * self.w2 * x * (y_true - self.w1 * self.w2 * x)).mean()
    dloss_dw2 = - (2 * self.w1 * x * (y_true - self.w1 * self.w2 * x)).mean()
    return dloss_dw1, dloss_dw2

  def train(self, x, y_true, lr, n_ep):
    """
    Training with Gradient descent algorithm

    Args:
      x: np.ndarray
        Features (inputs) to neural net
      y_true: np.ndarray
        True labels
      lr: float
        Learning rate
      n_ep: int
        Number of epochs (training iterations)

    Returns:
      loss_records: list
        Training loss records
      weight_records: list
        Training weight records (evolution of weights)
    """
    assert x.shape == y_true.shape

    loss_records = np.empty(n_ep)  # Pre allocation of loss records
    weight_records = np.empty((n_ep, 2))  # Pre allocation of weight records

    for i in range(n_ep):
      y_prediction = self.forward(x)
      loss_records[i] = loss(y_prediction, y_true)
      dloss_dw1, dloss_dw2 = self.dloss_dw(x, y_true)
      ######################################################################
      ## Implement the gradient descent step
      # Complete the function and remove or comment the line below
      # raise NotImplementedError("Training loop `train`")
      ######################################################################
      self.w1 -= lr * dloss_dw1
      self.w2 -= lr * dloss_dw2
      weight_records[i] = [self.w1, self.w2]

    return loss_records, weight_records


def loss(y_prediction, y_true):
  """
  Mean squared error

  Args:
    y_prediction: np.ndarray
      Model output (prediction)
    y_true: np.ndarray
      True label

  Returns:
    mse: np.ndarray
      Mean squared error loss
  """
  assert y_prediction.shape == y_true.shape
  mse = ((y_true - y_prediction)**2).mean()
  return mse
'''

SHALLOW_RUN = """
set_seed(seed=SEED)
n_epochs = 211
learning_rate = 0.02
initial_weights = [1.4, -1.6]
x_train, y_train = gen_samples(n=n_epochs, a=2.0, sigma=0.2)
x_eval = np.linspace(0.0, 1.0, 37, endpoint=True)
## Uncomment to run
sn_model = ShallowNarrowExercise(initial_weights)
loss_log, weight_log = sn_model.train(x_train, y_train, learning_rate, n_epochs)
y_eval = sn_model.forward(x_eval)
plot_x_y_(x_train[:, None], y_train[:, None], x_eval, y_eval, loss_log, weight_log)
"""

LOSS_LANDSCAPE = '''
def loss_landscape(w1_grid, w2_grid, x, y):
  """MSE of y = x w1 w2 at every point of the (w1, w2) grid (loops, as in the plotting helper)"""
  Z = np.zeros(np.shape(w1_grid))
  for i in range(Z.shape[0]):
    for j in range(Z.shape[1]):
      Z[i, j] = loss(w1_grid[i, j] * w2_grid[i, j] * x, y)
  return Z
'''

DEPTH = '''
def learning_time(losses, threshold):
  """first epoch whose loss reaches the threshold, -1 if never"""
  for epoch, l in enumerate(losses):
    if l <= threshold:
      return epoch
  return -1


def depth_learning_times(depths, x, y, lr=0.01, init_weight=0.9, n_ep=1000, frac=0.01,
                         init_std=0.0, rng=None):
  """learning time of a deep narrow chain for each depth"""
  if rng is None:
    rng = np.random.default_rng(2021)
  explained = np.mean(x * y)**2 / np.mean(x * x)
  floor = np.mean(y * y) - explained
  threshold = floor + frac * explained
  out = []
  for depth in depths:
    w = init_weight * np.ones(depth + 1)
    if init_std > 0:
      w = w + init_std * rng.standard_normal(depth + 1)
    model = DeepNarrowLNN(w)
    with np.errstate(all="ignore"):
      losses, _ = model.train(x, y, lr, n_ep)
    out.append(learning_time(losses, threshold))
  return np.array(out)
'''

DEPTH_WIDGET = '''
# @markdown Make sure you execute this cell to enable the widget!

_ = interact(depth_widget,
    depth = IntSlider(min=0, max=51, step=5, value=0, continuous_update=False))


@widgets.interact(lr=widgets.FloatLogSlider(value=0.005, min=-4, max=-1, step=0.1))
def lr_widget(lr):
  depth_lr_init_interplay(50, lr, 0.9)
'''

LR_REGIME = '''
def lr_regime(losses):
  """name the regime of a loss curve (rules from the assignment)"""
  losses = np.asarray(losses, dtype=float)
  first, last = losses[0], losses[-1]
  if np.isnan(losses).any() or np.isinf(losses).any() or last > first:
    return "diverged"
  steps = len(losses) - 1
  ups = sum(1 for t in range(steps) if losses[t + 1] > losses[t] * (1 + 1e-6))
  if ups > steps / 10:
    return "chaotic"
  if last > 0.9 * first:
    return "too_small"
  k = max(1, int(np.ceil(steps / 10)))
  if losses[-1 - k] - last <= 0.01 * (first - last):
    return "right"
  return "slow"


def max_stable_lr(depth, x, y):
  """2 / top Hessian eigenvalue at the balanced minimum"""
  a = np.mean(x * y) / np.mean(x**2)
  w = np.ones(depth + 1) * np.abs(a)**(1 / (depth + 1))
  grad_prod = np.prod(w) / w       # dP/dw_i
  lam = 2 * np.mean(x**2) * np.sum(grad_prod**2)
  return 2 / lam
'''

LR_REGIME_ANY_INCREASE = '''
def lr_regime(losses):
  # YOUR CODE HERE
  L = list(losses)
  if not np.all(np.isfinite(L)) or L[-1] > L[0]:
    return "diverged"
  for t in range(len(L) - 1):
    if L[t + 1] > L[t] * (1 + 1e-6):
      return "chaotic"          # the loss went up: chaos
  if L[-1] > 0.9 * L[0]:
    return "too_small"
  k = max(1, int(np.ceil((len(L) - 1) / 10)))
  if L[-1 - k] - L[-1] <= 0.01 * (L[0] - L[-1]):
    return "right"
  return "slow"


def max_stable_lr(depth, x, y):
  """2 / top Hessian eigenvalue at the balanced minimum"""
  a = np.mean(x * y) / np.mean(x**2)
  w = np.ones(depth + 1) * np.abs(a)**(1 / (depth + 1))
  grad_prod = np.prod(w) / w       # dP/dw_i
  lam = 2 * np.mean(x**2) * np.sum(grad_prod**2)
  return 2 / lam
'''

INIT = '''
def init_power(w, depth):
  return w ** depth


def init_learning_times(init_values, x, y, depth=15, lr=0.02, n_ep=100, frac=0.01):
  """which initialisations of a 15-layer narrow LNN learn (time >= 0)"""
  explained = np.mean(x * y)**2 / np.mean(x * x)
  threshold = np.mean(y * y) - explained + frac * explained
  times = []
  for v in init_values:
    model = DeepNarrowLNN(np.full((1, depth + 1), v))
    with np.errstate(all="ignore"):
      losses, _ = model.train(x, y, lr, n_ep)
    times.append(learning_time(losses, threshold))
  return np.array(times)


print(0.9 ** 100, 1.1 ** 100)
'''

T2_LONG_RUN = """
# the long experiment from the slides: 50 layers, many learning rates (takes ~20 minutes)
x_train, y_train = gen_samples(100, 2.0, 0.1)
all_losses = {}
for lr in np.logspace(-4, -1, 200):
  model = DeepNarrowLNN(np.full((1, 51), 0.9))
  all_losses[lr], _ = model.train(x_train, y_train, lr, 20000)
  print(lr, lr_regime(all_losses[lr]))
"""

# ---------------------------------------------------------------------------
# Tutorial 3 blocks

T3_HEADER = """
# Tutorial 3: Deep linear neural networks

**Week 1, Day 2: Linear Deep Learning**

__Content creators:__ Saeed Salehi, Spiros Chavlis, Andrew Saxe
"""

T3_IMPORTS = """
# Imports
import math
import torch
import matplotlib

import numpy as np
import matplotlib.pyplot as plt

import torch.nn as nn
import torch.optim as optim
from nma_helpers import *
"""

T3_HELPERS = '''
# @title Helper functions

def build_tree(n_levels, n_branches, probability, to_np_array=True):
  """
  Builds tree

  Args:
    n_levels: int
      Number of levels in tree
    n_branches: int
      Number of branches in tree
    probability: float
      Flipping probability
    to_np_array: boolean
      If true, represent tree as np.ndarray

  Returns:
    tree: dict if to_np_array=False
          np.ndarray otherwise
      Tree
  """
  assert 0.0 <= probability <= 1.0

  tree = {}

  tree["level"] = [0]
  for i in range(1, n_levels+1):
    tree["level"].extend([i]*(n_branches**i))

  tree["pflip"] = [probability]*len(tree["level"])

  tree["parent"] = [None]
  k = len(tree["level"])-1
  for j in range(k//n_branches):
    tree["parent"].extend([j]*n_branches)

  if to_np_array:
    tree["level"] = np.array(tree["level"])
    tree["pflip"] = np.array(tree["pflip"])
    tree["parent"] = np.array(tree["parent"])

  return tree


def sample_from_tree(tree, n):
  """
  Generates n samples from a tree

  Args:
    tree: np.ndarray/dictionary
      Tree
    n: int
      Number of levels in tree

  Returns:
    x: np.ndarray
      Sample from tree
  """
  items = [i for i, v in enumerate(tree["level"]) if v == max(tree["level"])]
  n_items = len(items)
  x = np.zeros(shape=(n, n_items))
  rand_temp = np.random.rand(n, len(tree["pflip"]))
  flip_temp = np.repeat(tree["pflip"].reshape(1, -1), n, 0)
  samp = (rand_temp > flip_temp) * 2 - 1

  for i in range(n_items):
    j = items[i]
    prop = samp[:, j]
    while tree["parent"][j] is not None:
      j = tree["parent"][j]
      prop *= samp[:, j]
    x[:, i] = prop
  return x


def generate_hsd():
  """
  Building the tree

  Args:
    None

  Returns:
    tree_labels: np.ndarray
      Tree Labels
    tree_features: np.ndarray
      Sample from tree
  """
  n_branches = 2  # 2 branches at each node
  probability = .15  # flipping probability
  n_levels = 3  # number of levels (depth of tree)
  tree = build_tree(n_levels, n_branches, probability, to_np_array=True)
  tree["pflip"][0] = 0.5
  n_samples = 10000 # Sample this many features

  tree_labels = np.eye(n_branches**n_levels)
  tree_features = sample_from_tree(tree, n_samples).T
  return tree_labels, tree_features
'''

T3_DOWNLOAD = """
# @title Download the precomputed illusory-correlation runs
import os, requests, zipfile
fname = "illusion_runs.zip"
url = "https://osf.io/download/abcd3/"
if not os.path.isfile(fname):
  r = requests.get(url, allow_redirects=True)
  with open(fname, 'wb') as fh:
    fh.write(r.content)
  with zipfile.ZipFile(fname, 'r') as zf:
    zf.extractall('.')
"""

LNNET = '''
class LNNet(nn.Module):
  """
  A Linear Neural Net with one hidden layer
  """

  def __init__(self, in_dim, hid_dim, out_dim):
    """
    Initialize LNNet parameters

    Args:
      in_dim: int
        Input dimension
      out_dim: int
        Ouput dimension
      hid_dim: int
        Hidden dimension

    Returns:
      Nothing
    """
    super().__init__()
    self.in_hid = nn.Linear(in_dim, hid_dim, bias=False)
    self.hid_out = nn.Linear(hid_dim, out_dim, bias=False)

  def forward(self, x):
    """
    Forward pass of LNNet

    Args:
      x: torch.Tensor
        Input tensor

    Returns:
      hid: torch.Tensor
        Hidden layer activity
      out: torch.Tensor
        Output/Prediction
    """
    hid = self.in_hid(x)  # hidden activity
    out = self.hid_out(hid)  # output (prediction)
    return out, hid
'''

T3_TRAIN_HELPER = '''
# @title Helper function: train (Tutorial 3)

def train(model, inputs, targets, n_epochs, lr, illusory_i=0):
  """
  Training function

  Args:
    model: torch nn.Module
      The neural network
    inputs: torch.Tensor
      Features (input) with shape `[batch_size, input_dim]`
    targets: torch.Tensor
      Targets (labels) with shape `[batch_size, output_dim]`
    n_epochs: int
      Number of training epochs (iterations)
    lr: float
      Learning rate
    illusory_i: int
      Index of illusory feature

  Returns:
    losses: np.ndarray
      Record (evolution) of training loss
    modes: np.ndarray
      Record (evolution) of singular values (dynamic modes)
    rs_mats: np.ndarray
      Record (evolution) of representational similarity matrices
    illusions: np.ndarray
      Record of network prediction for the last feature
  """
  in_dim = inputs.size(1)

  losses = np.zeros(n_epochs)  # Loss records
  modes = np.zeros((n_epochs, in_dim))  # Singular values (modes) records
  rs_mats = []  # Representational similarity matrices
  illusions = np.zeros(n_epochs)  # Prediction for the given feature

  optimizer = optim.SGD(model.parameters(), lr=lr)
  criterion = nn.MSELoss()

  for i in range(n_epochs):
    optimizer.zero_grad()
    predictions, hiddens = model(inputs)
    loss = criterion(predictions, targets)
    loss.backward()
    optimizer.step()

    # Section 2 Singular value decomposition
    U, Σ, V = ex_net_svd(model, in_dim)

    # Section 3 calculating representational similarity matrix
    RSM = ex_net_rsm(hiddens.detach())

    # Section 4 network prediction of illusory_i inputs for the last feature
    pred_ij = predictions.detach()[illusory_i, -1]

    # Logging (recordings)
    losses[i] = loss.item()
    modes[i] = Σ.detach().numpy()
    rs_mats.append(RSM.numpy())
    illusions[i] = pred_ij.numpy()

  return losses, modes, np.array(rs_mats), illusions
'''

INITIALIZER = '''
def ex_initializer_(model, gamma=1e-12):
  """
  In-place Re-initialization of weights

  Args:
    model: torch.nn.Module
      PyTorch neural net model
    gamma: float
      Initialization scale

  Returns:
    Nothing
  """
  for weight in model.parameters():
    n_out, n_in = weight.shape
    #################################################
    ## Define the standard deviation (sigma) for the normal distribution
    # as given in the equation above
    # Complete the function and remove or comment the line below
    # raise NotImplementedError("Function `ex_initializer_`")
    #################################################
    sigma = gamma / math.sqrt(n_in + n_out)
    nn.init.normal_(weight, mean=0.0, std=sigma)
'''

INITIALIZER_BLANK = '''
def ex_initializer_(model, gamma=1e-12):
  """
  In-place Re-initialization of weights
  """
  for weight in model.parameters():
    n_out, n_in = weight.shape
    #################################################
    ## Define the standard deviation (sigma) for the normal distribution
    # as given in the equation above
    # Complete the function and remove or comment the line below
    # raise NotImplementedError("Function `ex_initializer_`")
    #################################################
    sigma =
    nn.init.normal_(weight, mean=0.0, std=sigma)
'''

INITIALIZER_NO_SQRT = '''
def ex_initializer_(model, gamma=1e-12):
  """In-place Re-initialization of weights"""
  for weight in model.parameters():
    n_out, n_in = weight.shape
    sigma = gamma / (n_in + n_out)
    nn.init.normal_(weight, mean=0.0, std=sigma)
'''

T3_TRAINING_RUN = """
%%time
# illusory correlations: 10000 features, lr 100, 1000 epochs (long!)
tree_labels, tree_features = generate_hsd()
label_tensor = torch.tensor(tree_labels).float()
feature_tensor = torch.tensor(tree_features).float()
lr = 100.0
hidden_dim = 30
gamma = 1e-12
n_epochs = 1000
dlnn_model = LNNet(label_tensor.size(1), hidden_dim, feature_tensor.size(1))
ex_initializer_(dlnn_model, gamma=gamma)
losses, *_ = train(dlnn_model, label_tensor, feature_tensor, n_epochs, lr)
plot_loss(losses)
"""

SVD_RSM = '''
def ex_net_svd(model, in_dim):
  """
  Performs a Singular value decomposition on given model weights

  Args:
    model: torch.nn.Module
      Neural network model
    in_dim: int
      The input dimension of the model

  Returns:
    U: torch.tensor
      Orthogonal matrix
    Σ: torch.tensor
      Diagonal matrix
    V: torch.tensor
      Orthogonal matrix
  """
  W_tot = torch.eye(in_dim)
  for weight in model.parameters():
    #################################################
    ## Calculate the W_tot by multiplication of all weights
    # and then perform SVD on the W_tot using pytorch's `torch.svd`
    # Remember that weights need to be `.detach()` from the graph
    # Complete the function and remove or comment the line below
    # raise NotImplementedError("Function `ex_net_svd`")
    #################################################
    W_tot = weight.detach() @ W_tot
  U, Σ, V = torch.svd(W_tot)
  return U, Σ, V


def ex_net_rsm(h):
  """
  Calculates the Representational Similarity Matrix

  Args:
    h: torch.Tensor
      Activity of a hidden layer

  Returns:
    rsm: torch.Tensor
      Representational similarity matrix
  """
  #################################################
  ## Calculate the representational similarity matrix
  # Complete the function and remove or comment the line below
  # raise NotImplementedError("Function `ex_net_rsm`")
  #################################################
  rsm = h @ h.T
  return rsm
'''

LINREG = '''
def linear_regression(X, Y):
  """
  Analytical Linear regression

  Args:
    X: np.ndarray
      Design matrix
    Y: np.ndarray
      Target ouputs

  Returns:
    W: np.ndarray
      Estimated weights (mapping)
  """
  assert isinstance(X, np.ndarray)
  assert isinstance(Y, np.ndarray)
  M, Dx = X.shape
  N, Dy = Y.shape
  assert Dx == Dy
  #################################################
  ## Complete the linear_regression_exercise function
  # Complete the function and remove or comment the line below
  # raise NotImplementedError("Linear Regression `linear_regression`")
  #################################################
  W = Y @ X.T @ np.linalg.inv(X @ X.T)

  return W
'''

LINREG_XTX = '''
def linear_regression(X, Y):
  """Analytical Linear regression"""
  assert isinstance(X, np.ndarray)
  assert isinstance(Y, np.ndarray)
  # YOUR CODE HERE
  W = Y @ X.T @ np.linalg.inv(X.T @ X)
  return W
'''


# ---------------------------------------------------------------------------
# the notebooks


def tutorial1(nb: NB, *, fun_dz=FUN_DZ, loss_grad=LOSS_GRAD, graph=GRAPH, simple=SIMPLE_GRAPH, train=TRAIN,
              nbgrader=False, first_attempt=False):
    g = (lambda gid: {"grade_id": gid, "solution": True}) if nbgrader else (lambda gid: {})
    nb.md(T1_HEADER)
    nb.code(T1_SLIDES)
    nb.code(FEEDBACK_GADGET)
    nb.code(EVALTOOLS)
    nb.code(T1_IMPORTS)
    nb.code(FIGURE_SETTINGS)
    nb.code(T1_PLOTTING)
    nb.code(SET_SEED)
    nb.code(SET_DEVICE)
    nb.code(SEED_CALL)
    nb.md("---\n# Section 1: Gradient Descent Algorithm\n\n*Time estimate: ~30-45 mins*")
    nb.code(video_cell("Introduction", "i7djAv2jnzY", "BV1Qf4y1578t"))
    nb.md("### Coding Exercise 1.1: Gradient Vector\n\nImplement complete the function which returns the gradient vector for $z=\\sin(x^2 + y^2)$.")
    if first_attempt:
        nb.code(FUN_DZ_FIRST_ATTEMPT)
    nb.code(FUN_Z + "\n\n" + fun_dz, **g("cell-fun_dz"))
    nb.code(EX1_PLOT_CALL)
    nb.md("### Analytical Exercise 1.2: Gradients of a simple loss\n\n$L = (y - \\tanh(wx + b))^2$")
    nb.code(loss_grad, **g("cell-loss_grad"))
    nb.md("### Analytical Exercise 1.3: Chain rule on a computational graph\n\n"
          "$f(x, y, z) = \\tanh\\left(\\ln\\left[1 + z \\frac{2x}{\\sin(y)}\\right]\\right)$")
    nb.code(graph, **g("cell-graph"))
    nb.md("---\n# Section 2: PyTorch AutoGrad\n\n### Coding Exercise 2.1: Buiding a Computational Graph")
    nb.code(video_cell("PyTorch AutoGrad", "3c8nPwWOdEE", "BV1Ug411w7ut"))
    nb.code(simple, **g("cell-simple_graph"))
    nb.code(BACKWARD_DEMO)
    nb.md("## Section 2.2: Training loop in PyTorch")
    nb.code(T1_DATA)
    nb.code(WIDENET)
    nb.md("### Coding Exercise 2.2: Training Loop")
    nb.code(train, **g("cell-train"))
    nb.code(T1_LONG_RUN)
    nb.code(AIRTABLE)


def tutorial2(nb: NB, *, shallow=SHALLOW, lr=LR_REGIME, nbgrader=False):
    g = (lambda gid: {"grade_id": gid, "solution": True}) if nbgrader else (lambda gid: {})
    nb.md(T2_HEADER)
    nb.code(T2_HELPERS)
    nb.code(T2_PLOTTING)
    nb.md("### Coding Exercise 1: Implement simple narrow LNN")
    nb.code(shallow, **g("cell-shallow"))
    nb.code(SHALLOW_RUN)
    nb.code(LOSS_LANDSCAPE, **g("cell-landscape"))
    nb.md("## Section 2.1: Depth\n\n### Interactive Demo 2.1: Depth widget")
    nb.code(DEPTH, **g("cell-depth"))
    nb.code(DEPTH_WIDGET)
    nb.md("## Section 2.2: Learning rate")
    nb.code(lr, **g("cell-lr"))
    nb.md("## Section 2.3: Initialization matters\n\n$0.9^{100} \\approx 2.656 \\times 10^{-5}$ and $1.1^{100} \\approx 13780.6$")
    nb.code(INIT, **g("cell-init"))
    nb.code(T2_LONG_RUN)


def tutorial3(nb: NB, *, initializer=INITIALIZER, linreg=LINREG, train_helper=False, nbgrader=False):
    g = (lambda gid: {"grade_id": gid, "solution": True}) if nbgrader else (lambda gid: {})
    nb.md(T3_HEADER)
    nb.code(T3_IMPORTS)
    nb.code(T3_HELPERS)
    nb.code(T3_DOWNLOAD)
    nb.md("## Section 1: Deep Linear Neural Nets")
    nb.code(LNNET)
    if train_helper:
        nb.code(T3_TRAIN_HELPER)
    nb.md("### Coding Exercise 1: Re-initialization")
    nb.code(initializer, **g("cell-initializer"))
    nb.code(T3_TRAINING_RUN)
    nb.md("## Section 2: Singular Value Decomposition (SVD)")
    nb.code(SVD_RSM, **g("cell-svd-rsm"))
    nb.md("## Section 5: Linear regression")
    nb.code(linreg, **g("cell-linreg"))


def complete_correct():
    nb = NB("complete_correct")
    tutorial1(nb, nbgrader=True, first_attempt=True)
    tutorial2(nb, nbgrader=True)
    tutorial3(nb, nbgrader=True)
    return nb


def known_mistakes():
    nb = NB("known_mistakes")
    tutorial1(nb, fun_dz=FUN_DZ_MISSING_2, loss_grad=LOSS_GRAD_SIGN, train=TRAIN_NO_ZERO_GRAD)
    shallow_sum = SHALLOW.replace(
        "    dloss_dw1 = - (2 * self.w2 * x * (y_true - self.w1 * self.w2 * x)).mean()\n"
        "    dloss_dw2 = - (2 * self.w1 * x * (y_true - self.w1 * self.w2 * x)).mean()",
        "    dloss_dw1 = - (2 * self.w2 * x * (y_true - self.w1 * self.w2 * x)).sum()\n"
        "    dloss_dw2 = - (2 * self.w1 * x * (y_true - self.w1 * self.w2 * x)).sum()")
    assert shallow_sum != SHALLOW
    tutorial2(nb, shallow=shallow_sum, lr=LR_REGIME_ANY_INCREASE)
    tutorial3(nb, initializer=INITIALIZER_NO_SQRT, linreg=LINREG_XTX)
    return nb


def in_progress():
    nb = NB("in_progress")
    nbg = dict(nbgrader=True)
    tutorial1(nb, graph=GRAPH_NOT_IMPLEMENTED, simple=SIMPLE_GRAPH_ELLIPSIS,
              train=TRAIN.replace("    optimizer.zero_grad()  # set gradients to 0\n",
                                  "    raise NotImplementedError(\"Training loop `train`\")\n"), **nbg)
    shallow_todo = SHALLOW.replace(
        "    dloss_dw1 = - (2 * self.w2 * x * (y_true - self.w1 * self.w2 * x)).mean()\n"
        "    dloss_dw2 = - (2 * self.w1 * x * (y_true - self.w1 * self.w2 * x)).mean()",
        "    dloss_dw1 = ...\n    dloss_dw2 = ...")
    nb.md(T2_HEADER)
    nb.code(T2_HELPERS)
    nb.code(shallow_todo, grade_id="cell-shallow", solution=True)
    nb.code("# YOUR CODE HERE\nraise NotImplementedError()", grade_id="cell-landscape", solution=True)
    nb.code("assert np.isclose(loss(np.ones(3), np.zeros(3)), 1.0)", grade_id="test-loss", tests=1)
    nb.code(T3_IMPORTS)
    nb.code(T3_HELPERS)
    nb.code(LNNET)
    nb.code(INITIALIZER_BLANK, grade_id="cell-initializer", solution=True)
    nb.code(SVD_RSM.replace("  rsm = h @ h.T\n", "  # YOUR CODE HERE\n  raise NotImplementedError()\n"),
            grade_id="cell-svd-rsm", solution=True)
    return nb


def tutorial1_only():
    nb = NB("tutorial1_only")
    tutorial1(nb)
    return nb


def concatenated_train_clash():
    nb = NB("concatenated_train_clash")
    tutorial1(nb)
    tutorial2(nb)
    tutorial3(nb, train_helper=True)
    return nb


def nbformat_v3():
    nb = NB("nbformat_v3_partial")
    nb.md(T1_HEADER)
    nb.code(T1_IMPORTS)
    nb.code(FUN_Z + "\n\n" + FUN_DZ)
    nb.code(LOSS_GRAD)
    return nb


def main():
    written = [
        complete_correct().write(),
        known_mistakes().write(),
        in_progress().write(),
        tutorial1_only().write(),
        concatenated_train_clash().write(),
        nbformat_v3().write(version=3),
    ]
    # a notebook whose upload was cut off: not JSON
    text = nbformat.writes(tutorial1_only_nb())
    (HERE / "corrupt_truncated.ipynb").write_text(text[: len(text) // 2])
    # a notebook claiming a format version that does not exist yet
    data = json.loads(nbformat.writes(nbformat_v3().build()))
    data["nbformat"], data["nbformat_minor"] = 5, 0
    (HERE / "future_nbformat.ipynb").write_text(json.dumps(data, indent=1) + "\n")
    written += [HERE / "corrupt_truncated.ipynb", HERE / "future_nbformat.ipynb"]
    for p in written:
        print(p.relative_to(HERE.parents[2]))


def tutorial1_only_nb():
    return tutorial1_only().build()


if __name__ == "__main__":
    main()
