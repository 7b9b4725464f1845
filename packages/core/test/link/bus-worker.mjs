// A bus member in a worker_thread, for broadcast-channel.spec.ts. It uses the built
// dist: worker threads load plain JavaScript.
import { parentPort, workerData } from 'node:worker_threads'
import { broadcastChannel } from '../../dist/link/broadcast-channel.js'

const bus = await broadcastChannel(workerData.name).open()
bus.onmessage = (data) => {
  if (data.length === 1 && data[0] === 0) {
    // Quit: with the bus and the port closed, nothing keeps this thread alive.
    bus.close()
    parentPort.close()
    return
  }
  const echo = new Uint8Array(data.length + 1)
  echo[0] = 0xee
  echo.set(data, 1)
  bus.post(echo)
}
bus.post(new Uint8Array([0xaa]))
parentPort.postMessage('ready')
