"""A small autograd fit: learn y = 3x^2 - 2x + 1 from noisy samples with plain tensors,
gradient descent and genesis.no_grad. Prints the loss and the learnt coefficients."""
import genesis

genesis.manual_seed(0)
x = genesis.linspace(-1, 1, 101)
y = 3 * x * x - 2 * x + 1 + 0.01 * genesis.randn(101)
coef = genesis.zeros(3, requires_grad=True)

for step in range(501):
    pred = coef[0] * x * x + coef[1] * x + coef[2]
    loss = ((pred - y) ** 2).mean()
    loss.backward()
    with genesis.no_grad():
        coef -= 0.5 * coef.grad
        coef.grad.zero_()
    if step % 100 == 0:
        print(f"step {step:3d}  loss {loss.item():.6f}")

print("learnt coefficients:", [round(c, 3) for c in coef.tolist()], "(true: 3, -2, 1)")
